"""Help and the 96110 hotline: the answers that must work from anywhere, even mid-dialog."""

from __future__ import annotations

from typing import Any

from bot.registry import registry


@registry.on_text(r"(?i)^(帮助|菜单|help|\?|？)$")
def show_help(msg: Any, ctx: Any) -> str:
    return ctx.reply("help")


@registry.on_menu("HELP_96110")
@registry.on_text(r"^(96110|求助|一键求助|96110一键求助)$")
def explain_96110(msg: Any, ctx: Any) -> str:
    return ctx.reply("help_96110")
