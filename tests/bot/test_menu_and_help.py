"""Help and 96110: by text command and by menu click, through the real webhook."""

from __future__ import annotations


def test_help_command_lists_the_commands(phone, library):
    assert phone.say("帮助") == library.reply("help")


def test_menu_word_also_shows_help(phone, library):
    assert phone.say("菜单") == library.reply("help")


def test_96110_menu_click_explains_the_hotline(phone, library):
    assert phone.click("HELP_96110") == library.reply("help_96110")


def test_typing_96110_explains_the_hotline(phone, library):
    assert phone.say("96110") == library.reply("help_96110")


def test_help_words_inside_a_sentence_are_not_taken_as_the_command(phone, library):
    assert phone.say("我需要帮助") != library.reply("help")
