"""Validating and decoding a screenshot's bytes before any OCR work (pure: bytes in, image out).

Each refusal is a ``BadImage`` whose ``reply`` names the citizen-facing answer in
``content/data/replies.json``; none of them is worth a retry, the same bytes fail the same way.

Limits:
- Bytes: an image message's temporary media is at most 10 MB (新增临时素材, "图片（image）: 10M，
  支持PNG\\JPEG\\JPG\\GIF格式",
  https://developers.weixin.qq.com/doc/service/api/material/temporary/api_uploadtempmedia).
  The same page's notes also say "图片2MB", and older copies of the doc say 2 MB or 1 MB for
  other upload APIs (永久素材, 图文消息内的图片), so 10 MB is the most WeChat can hand us.
- Pixels: a 10 MB PNG can hold a 50,000 × 50,000 single-colour image ("decompression bomb")
  that would need 7.5 GB once decoded. The pixel count is read from the header and refused
  before anything is decoded. The cap allows a long scrolling screenshot (1440 × 17,000).
- Formats: WeChat's list plus what phones produce; Pillow's other decoders (EPS runs
  Ghostscript, for one) are never tried.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageFile

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 25_000_000
FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
# OCR input: phone screenshots are ~1080 px wide; wider images are scaled down to this first.
OCR_MAX_WIDTH = 1280
# A long screenshot is read in strips no taller than this many widths, cut at blank rows.
STRIP_HEIGHT_PER_WIDTH = 2.2
MAX_STRIPS = 8
_BLANK_ROW_RANGE = 12  # grey levels: a row whose darkest and lightest pixel differ less is blank
_CUT_SEARCH = 0.25  # look this share of a strip upwards for a blank row to cut at


class BadImage(Exception):
    """The bytes cannot be checked; ``reply`` names the answer the citizen gets."""

    reply = "screenshot_not_image"


class NotAnImage(BadImage):
    """Not an image in a format we read."""

    reply = "screenshot_not_image"


class TruncatedImage(BadImage):
    """A real image header, but the data stops early or is corrupt."""

    reply = "screenshot_truncated"


class ImageTooLarge(BadImage):
    """More bytes than WeChat allows for an image."""

    reply = "screenshot_too_large"


class TooManyPixels(BadImage):
    """A pixel count past ``MAX_PIXELS``: a decompression bomb, or simply too big to read."""

    reply = "screenshot_too_many_pixels"


@dataclass(frozen=True)
class Limits:
    max_bytes: int = MAX_IMAGE_BYTES
    max_pixels: int = MAX_PIXELS


def decode(data: bytes, limits: Limits = Limits()) -> Image.Image:
    """Checked bytes → an RGB image (first frame of a GIF). Raises a ``BadImage``."""
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(f"{len(data)} bytes > {limits.max_bytes}")
    if not data:
        raise NotAnImage("empty")
    # Pillow's own truncated-image leniency is a process-wide switch; it must stay off.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(str(exc)) from None
    except (OSError, ValueError, SyntaxError) as exc:
        # UnidentifiedImageError is an OSError; a damaged header can raise the others.
        raise NotAnImage(f"{type(exc).__name__}: {exc}") from None
    width, height = image.size
    if width * height > limits.max_pixels:
        raise TooManyPixels(f"{width}x{height}")
    if width < 1 or height < 1:
        raise NotAnImage("empty image")
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(str(exc)) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise TruncatedImage(f"{type(exc).__name__}: {exc}") from None
    return _to_rgb(image)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "P", "PA"):
        # Transparent areas become white, as a chat app shows them; black would hide dark text.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def scale_for_ocr(image: Image.Image, max_width: int = OCR_MAX_WIDTH) -> Image.Image:
    """Scale down to ``max_width`` (never up): OCR cost grows with pixels, not with legibility."""
    if image.width <= max_width:
        return image
    height = max(1, round(image.height * max_width / image.width))
    return image.resize((max_width, height), Image.Resampling.LANCZOS)


def blank_rows(image: Image.Image) -> list[bool]:
    """Per row: is it one flat colour (a gap between bubbles)?"""
    grey = image.convert("L")
    width = grey.width
    data = grey.tobytes()
    rows = []
    for y in range(grey.height):
        row = data[y * width:(y + 1) * width]
        rows.append(max(row) - min(row) < _BLANK_ROW_RANGE)
    return rows


def strip_bounds(height: int, width: int, blank: list[bool],
                 per_width: float = STRIP_HEIGHT_PER_WIDTH,
                 max_strips: int = MAX_STRIPS) -> list[tuple[int, int]]:
    """(top, bottom) of each strip of a tall image, cut at blank rows where there is one near
    the ideal cut, so no text line is split; at most ``max_strips`` (the top of the image is
    where a forwarded chat's start is)."""
    strip = max(1, int(width * per_width))
    bounds: list[tuple[int, int]] = []
    top = 0
    while top < height and len(bounds) < max_strips:
        bottom = min(height, top + strip)
        if bottom < height:
            floor = bottom - int(strip * _CUT_SEARCH)
            for y in range(bottom - 1, max(top, floor), -1):
                if blank[y]:
                    bottom = y + 1
                    break
        bounds.append((top, bottom))
        top = bottom
    return bounds


def strips(image: Image.Image) -> list[tuple[int, Image.Image]]:
    """(top offset, strip) pairs covering a tall image; one pair for an ordinary screenshot."""
    if image.height <= image.width * STRIP_HEIGHT_PER_WIDTH:
        return [(0, image)]
    bounds = strip_bounds(image.height, image.width, blank_rows(image))
    return [(top, image.crop((0, top, image.width, bottom))) for top, bottom in bounds]
