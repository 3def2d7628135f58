"""Generated input against the image gate and the layout: invariants, not examples."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from screenshots import images
from screenshots.layout import Box, paragraphs, reading_order
from tests.screenshots import render

SMALL_PNG = render.chat([("10:21", "in", "您好")]).png


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_any_bytes_decode_to_an_rgb_image_or_a_named_refusal(data: bytes) -> None:
    try:
        image = images.decode(data)
    except images.BadImage as exc:
        assert exc.reply.startswith("screenshot_")
    else:
        assert isinstance(image, Image.Image) and image.mode == "RGB"


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=len(SMALL_PNG) - 1), st.integers(0, 255),
       st.integers(min_value=1, max_value=len(SMALL_PNG)))
def test_a_damaged_or_cut_screenshot_never_escapes_as_another_error(at: int, value: int,
                                                                    keep: int) -> None:
    damaged = bytearray(SMALL_PNG[:keep])
    if at < len(damaged):
        damaged[at] = value
    with contextlib.suppress(images.BadImage):
        images.decode(bytes(damaged))


boxes = st.lists(st.builds(
    lambda text, left, top, width, height, score: Box(text, score, left, top, left + width,
                                                     top + height),
    st.text(min_size=1, max_size=8), st.floats(0, 1000), st.floats(0, 3000),
    st.floats(1, 500), st.floats(1, 120), st.floats(0, 1)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(boxes)
def test_reading_order_keeps_every_readable_box_once_and_sorts_lines_top_down(found) -> None:
    lines = reading_order(found, min_score=0.5)

    kept = sorted(b.text.strip() for b in found
                  if b.score >= 0.5 and any(ch.isalnum() for ch in b.text))
    assert sorted(part for line in lines for part in line.text.split(" ") if part) == sorted(
        part for text in kept for part in text.split(" ") if part)
    assert [line.top for line in lines] == sorted(line.top for line in lines)
    assert "".join(paragraphs(lines)).replace(" ", "") == "".join(
        line.text for line in lines).replace(" ", "")
