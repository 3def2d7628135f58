"""Screenshot bytes are validated before any OCR work: each refusal names its citizen reply."""

from __future__ import annotations

import io
import itertools

import pytest
from PIL import Image

from screenshots import images
from screenshots.layout import Box, paragraphs, reading_order
from tests.screenshots import render


def test_a_rendered_chat_screenshot_decodes_to_an_rgb_image():
    image = images.decode(render.chat([("10:21", "in", "您好")]).png)

    assert (image.mode, image.size) == ("RGB", (render.WIDTH, render.HEIGHT))


def test_bytes_that_are_not_an_image_are_refused_as_not_an_image():
    with pytest.raises(images.NotAnImage) as caught:
        images.decode(b"%PDF-1.7 this is a document, not a picture")
    assert caught.value.reply == "screenshot_not_image"


def test_a_png_cut_short_is_refused_as_truncated():
    png = render.chat([("10:21", "in", "您好，我是客服")]).png

    with pytest.raises(images.TruncatedImage):
        images.decode(png[: len(png) // 2])


def test_an_image_over_wechats_ten_megabytes_is_refused_before_decoding():
    with pytest.raises(images.ImageTooLarge):
        images.decode(b"\x89PNG" + b"\0" * images.MAX_IMAGE_BYTES)


def test_a_decompression_bomb_is_refused_from_its_header():
    bomb = render.bomb_png()
    assert len(bomb) < 1_000_000

    with pytest.raises(images.TooManyPixels) as caught:
        images.decode(bomb)
    assert caught.value.reply == "screenshot_too_many_pixels"


def test_formats_outside_the_allowed_list_are_never_decoded():
    out = io.BytesIO()
    Image.new("RGB", (40, 40)).save(out, format="TIFF")

    with pytest.raises(images.NotAnImage):
        images.decode(out.getvalue())


def test_transparent_areas_become_white_not_black():
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(out, format="PNG")

    assert images.decode(out.getvalue()).getpixel((5, 5)) == (255, 255, 255)


def test_wide_images_are_scaled_down_for_ocr_and_narrow_ones_kept():
    wide = Image.new("RGB", (2560, 1000))
    narrow = Image.new("RGB", (1080, 2340))

    assert images.scale_for_ocr(wide).size == (images.OCR_MAX_WIDTH, 500)
    assert images.scale_for_ocr(narrow) is narrow


def test_a_long_screenshot_is_cut_into_strips_at_blank_rows():
    height, width = 5000, 1000
    blank = [y % 200 >= 150 for y in range(height)]  # text rows 0..149 of every 200

    bounds = images.strip_bounds(height, width, blank)

    assert bounds[0][0] == 0 and bounds[-1][1] == height
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    assert all(blank[bottom - 1] for _, bottom in bounds[:-1])
    assert all(bottom - top <= width * images.STRIP_HEIGHT_PER_WIDTH for top, bottom in bounds)


def test_boxes_on_one_row_join_into_one_line_in_reading_order():
    boxes = [Box("客服", 0.9, 300, 100, 400, 140), Box("在线", 0.9, 100, 104, 200, 138),
             Box("10:21", 0.99, 500, 20, 580, 50), Box("噪点", 0.2, 10, 300, 30, 320),
             Box("●", 0.9, 10, 400, 40, 430)]

    lines = reading_order(boxes, min_score=0.5)

    assert [line.text for line in lines] == ["10:21", "在线 客服"]


def test_rows_of_one_wrapped_message_rejoin_and_separate_messages_stay_apart():
    boxes = [Box("10:21", 0.99, 480, 10, 560, 40),
             Box("【ETC服务】您的ETC已失效，请点击http://etc-gov.cn.", 0.99, 90, 100, 990, 150),
             Box("xyz 重新认证", 0.99, 90, 162, 400, 212),
             Box("退订回T", 0.99, 90, 400, 300, 450)]

    assert paragraphs(reading_order(boxes)) == [
        "10:21", "【ETC服务】您的ETC已失效，请点击http://etc-gov.cn.xyz 重新认证", "退订回T"]
