"""Printable QR posters (PNG and SVG) for officers and communities, and a station's ZIP.

Rendered locally with ``qrcode`` + Pillow: only the QR code's ticket comes from WeChat. The
Chinese text needs a CJK font, which the project's own set-up installs (scripts/bootstrap.sh:
fonts-wqy-microhei); a missing font is a clear ``PosterError``, never tofu boxes on a poster.
All wording comes from the content library (``poster_*`` replies).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import qrcode
from PIL import Image, ImageDraw, ImageFont

FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_FAMILY = "WenQuanYi Micro Hei"

WIDTH, HEIGHT = 1240, 1754          # A5 at 150 dpi... close enough to A-series proportions
QR_SIZE = 820
QR_TOP = 330
BORDER_MODULES = 4                  # the quiet zone scanners need
RED, INK, GREY = "#c8102e", "#1a1a1a", "#555555"


class PosterError(RuntimeError):
    """A poster cannot be rendered (e.g. the CJK font is not installed)."""


@dataclass(frozen=True)
class PosterText:
    title: str          # account name band
    headline: str       # officer or community line
    place: str          # station · community
    call_to_action: str
    hotline: str


def officer_text(library: Any, officer: Any, community: Any | None, station: Any) -> PosterText:
    place = library.reply("poster_place", station=station.name,
                          community=community.name if community else "")
    return PosterText(library.reply("poster_title"),
                      library.reply("poster_officer", name=officer.name,
                                    badge_no=officer.badge_no),
                      place.strip(" ·"), library.reply("poster_call_to_action"),
                      library.reply("poster_hotline"))


def community_text(library: Any, community: Any, station: Any) -> PosterText:
    return PosterText(library.reply("poster_title"),
                      library.reply("poster_community", name=community.name),
                      station.name, library.reply("poster_call_to_action"),
                      library.reply("poster_hotline"))


def _font(size: int) -> ImageFont.FreeTypeFont:
    if not FONT_PATH.exists():
        raise PosterError(f"CJK font missing at {FONT_PATH}: run scripts/bootstrap.sh "
                          "(installs fonts-wqy-microhei)")
    return ImageFont.truetype(str(FONT_PATH), size)


def qr_matrix(url: str) -> list[list[bool]]:
    """The QR modules for ``url`` including the quiet zone (M: survives a crumpled poster)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M,
                         border=BORDER_MODULES)
    code.add_data(url)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def qr_box(url: str) -> tuple[int, int, int]:
    """(left, top, module size in px) of the QR area on the poster."""
    modules = len(qr_matrix(url))
    module_px = QR_SIZE // modules
    size = module_px * modules
    return (WIDTH - size) // 2, QR_TOP + (QR_SIZE - size) // 2, module_px


def _lines(text: PosterText) -> list[tuple[str, int, int, str]]:
    """(text, y of baseline centre, font size, colour) below and above the QR."""
    bottom = QR_TOP + QR_SIZE
    return [(text.title, 110, 76, "#ffffff"), (text.headline, 262, 54, INK),
            (text.place, bottom + 70, 40, GREY), (text.call_to_action, bottom + 160, 40, INK),
            (text.hotline, bottom + 280, 64, RED)]


def render_png(url: str, text: PosterText) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, WIDTH, 200], fill=RED)
    for line, y, size, colour in _lines(text):
        font = _font(size)
        while draw.textlength(line, font=font) > WIDTH - 80 and size > 20:
            size -= 2
            font = _font(size)
        draw.text((WIDTH // 2, y), line, font=font, fill=colour, anchor="mm")
    left, top, module_px = qr_box(url)
    for r, row in enumerate(qr_matrix(url)):
        for c, dark in enumerate(row):
            if dark:
                x, y = left + c * module_px, top + r * module_px
                draw.rectangle([x, y, x + module_px - 1, y + module_px - 1], fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def render_svg(url: str, text: PosterText) -> str:
    _font(20)  # same font requirement as the PNG: the SVG names it for printing
    left, top, module_px = qr_box(url)
    path = []
    for r, row in enumerate(qr_matrix(url)):
        for c, dark in enumerate(row):
            if dark:
                path.append(f"M{left + c * module_px} {top + r * module_px}"
                            f"h{module_px}v{module_px}h-{module_px}z")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}">',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
             f'<rect width="{WIDTH}" height="200" fill="{RED}"/>',
             f'<path fill="#000000" shape-rendering="crispEdges" d="{"".join(path)}"/>']
    for line, y, size, colour in _lines(text):
        parts.append(f'<text x="{WIDTH // 2}" y="{y}" font-family="{FONT_FAMILY}, sans-serif" '
                     f'font-size="{size}" fill="{colour}" text-anchor="middle" '
                     f'dominant-baseline="central">{escape(line)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def zip_posters(items: Iterable[tuple[str, str, PosterText]]) -> bytes:
    """ZIP of ``<name>.png`` and ``<name>.svg`` for each (name, url, text)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, url, text in items:
            archive.writestr(f"{name}.png", render_png(url, text))
            archive.writestr(f"{name}.svg", render_svg(url, text))
    return out.getvalue()
