"""QR codes and posters: created once through the WeChat API, decoded back from the image."""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from registration import directory as d
from registration import poster
from registration.qr import cached_qr
from store import keys
from tests.staff import sign_in


@pytest.fixture
def staff(client, redis):
    d.save_station(redis, d.Station("s1", "城东派出所"))
    d.save_community(redis, d.Community("c1", "幸福社区", "s1"))
    d.save_officer(redis, d.Officer("o1", "张警官", "010001", "s1", "c1"))
    return sign_in(client, "admin", username="admin")


def _decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_officer_poster_png_decodes_back_to_the_officers_qr_url(staff, redis):
    response = staff.get("/api/v1/officers/o1/poster.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    qr = cached_qr(redis, "o:o1")
    assert qr is not None and _decode(response.data) == [qr.url]


def test_community_poster_png_decodes_back_to_the_communitys_qr_url(staff, redis):
    png = staff.get("/api/v1/communities/c1/poster.png").data
    qr = cached_qr(redis, "c:c1")
    assert qr is not None and _decode(png) == [qr.url]


def test_svg_poster_names_officer_community_station_and_hotline(staff):
    svg = staff.get("/api/v1/officers/o1/poster.svg").get_data(as_text=True)
    for text in ("张警官", "010001", "幸福社区", "城东派出所", "96110", "<path"):
        assert text in svg


def _rasterise_svg_paths(svg: str) -> bytes:
    """Draw every filled path of the SVG (M, absolute; h, v, relative; z) on a white canvas.

    Our own rasteriser of what the file says, so the check does not depend on the poster's
    code for the QR matrix; the result is decoded like a photo of the printed poster.
    """
    root = ElementTree.fromstring(svg)
    width, height = int(float(root.get("width", ""))), int(float(root.get("height", "")))
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for path in root.iter("{http://www.w3.org/2000/svg}path"):
        x = y = 0.0
        points: list[tuple[float, float]] = []
        for command, a, b in re.findall(r"([MhvzZ])\s*(-?[\d.]+)?\s*(-?[\d.]+)?",
                                        path.get("d", "")):
            if command == "M":
                x, y = float(a), float(b)
                points = [(x, y)]
            elif command == "h":
                x += float(a)
                points.append((x, y))
            elif command == "v":
                y += float(a)
                points.append((x, y))
            else:
                draw.polygon(points, fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_svg_poster_qr_decodes_back_to_the_officers_qr_url(staff, redis):
    svg = staff.get("/api/v1/officers/o1/poster.svg").get_data(as_text=True)
    qr = cached_qr(redis, "o:o1")
    assert qr is not None and _decode(_rasterise_svg_paths(svg)) == [qr.url]


def test_the_qr_code_is_created_once_and_then_served_from_cache(staff, sbx):
    for _ in range(3):
        staff.get("/api/v1/officers/o1/poster.png")
    assert sbx.stats()["api_calls"].get("qrcode/create") == 1


def test_station_zip_holds_png_and_svg_of_every_officer_and_community(staff, redis):
    d.save_officer(redis, d.Officer("o2", "李警官", "010002", "s1"))
    response = staff.get("/api/v1/stations/s1/posters.zip")
    names = sorted(zipfile.ZipFile(io.BytesIO(response.data)).namelist())
    assert names == ["community-c1.png", "community-c1.svg", "officer-o1.png",
                     "officer-o1.svg", "officer-o2.png", "officer-o2.svg"]


def test_poster_export_is_audited(staff, redis):
    staff.get("/api/v1/officers/o1/poster.svg")
    entries = redis.xrange(keys.audit_log())
    assert entries[-1][1]["action"] == "registration.poster.export"


def test_missing_cjk_font_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(poster, "FONT_PATH", tmp_path / "none.ttc")
    text = poster.PosterText("t", "h", "p", "c", "96110")
    with pytest.raises(poster.PosterError, match=r"bootstrap\.sh"):
        poster.render_png("http://weixin.qq.com/q/x", text)


def test_wechat_refusing_the_qr_code_is_reported_as_bad_gateway(staff, sbx):
    sbx.set_fault(api="qrcode/create", fault="errcode", errcode=45029)
    response = staff.get("/api/v1/officers/o1/poster.png")
    assert response.status_code == 502 and "45029" in response.get_json()["error"]
