"""Phone screenshots drawn with Pillow and the CJK font the bootstrap installs: a WeChat-style
chat (timestamps, grey and green bubbles) and an SMS thread. Each returns PNG bytes and the
lines drawn, in reading order, so tests and the benchmark can compare OCR output to the truth."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
WIDTH, HEIGHT = 1080, 2340  # a common phone screen (19.5:9)


@dataclass(frozen=True)
class Shot:
    png: bytes
    lines: tuple[str, ...]


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def chat(messages: list[tuple[str, str, str]], title: str = "客服小王") -> Shot:
    """``messages``: (timestamp or "", "in" | "out", text) — a WeChat chat screenshot."""
    image = Image.new("RGB", (WIDTH, HEIGHT), (237, 237, 237))
    draw = ImageDraw.Draw(image)
    body, small = _font(44), _font(32)
    draw.rectangle((0, 0, WIDTH, 200), fill=(237, 237, 237))
    draw.text((WIDTH // 2, 140), title, font=_font(48), fill=(20, 20, 20), anchor="mm")
    drawn = [title]
    y = 260
    for stamp, side, text in messages:
        if stamp:
            draw.text((WIDTH // 2, y), stamp, font=small, fill=(150, 150, 150), anchor="mt")
            drawn.append(stamp)
            y += 80
        width = draw.textlength(text, font=body)
        avatar = (40, y, 150, y + 110) if side == "in" else (WIDTH - 150, y, WIDTH - 40, y + 110)
        draw.rounded_rectangle(avatar, 10, fill=(120, 160, 200) if side == "in" else (90, 180, 120))
        left = 180 if side == "in" else WIDTH - 180 - width - 60
        colour = (255, 255, 255) if side == "in" else (149, 236, 105)
        draw.rounded_rectangle((left, y, left + width + 60, y + 110), 14, fill=colour)
        draw.text((left + 30, y + 55), text, font=body, fill=(25, 25, 25), anchor="lm")
        drawn.append(text)
        y += 170
    return Shot(_png(image), tuple(drawn))


def sms(sender: str, messages: list[tuple[str, str]]) -> Shot:
    """``messages``: (timestamp, text) — an SMS thread from ``sender``."""
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    body, small = _font(42), _font(30)
    draw.text((WIDTH // 2, 150), sender, font=_font(50), fill=(0, 0, 0), anchor="mm")
    drawn = [sender]
    y = 280
    for stamp, text in messages:
        draw.text((WIDTH // 2, y), stamp, font=small, fill=(140, 140, 140), anchor="mt")
        drawn.append(stamp)
        y += 70
        chunks = [text[i:i + 19] for i in range(0, len(text), 19)]
        height = 40 + 62 * len(chunks)
        draw.rounded_rectangle((50, y, 1000, y + height), 30, fill=(233, 233, 235))
        for n, chunk in enumerate(chunks):
            draw.text((90, y + 25 + 62 * n), chunk, font=body, fill=(0, 0, 0))
            drawn.append(chunk)
        y += height + 60
    return Shot(_png(image), tuple(drawn))


def blank(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A picture with no text (a photo of a wall, say)."""
    image = Image.new("RGB", (width, height), (180, 200, 220))
    ImageDraw.Draw(image).ellipse((200, 600, 880, 1280), fill=(90, 130, 170))
    return _png(image)


def noise_png(width: int, height: int) -> bytes:
    """Random pixels: a real PNG that does not compress (for the byte limit)."""
    import os

    return _png(Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def bomb_png(side: int = 20_000) -> bytes:
    """A valid 1-bit PNG of ``side`` × ``side`` white pixels: ~70 KB that would decode into
    ``side``² pixels (400 M for 20,000), streamed so the test never holds the raw image."""
    row = b"\x00" + b"\xff" * ((side + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat)
            + _chunk(b"IEND", b""))
