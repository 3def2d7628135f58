"""The dashboard's SVG charts at the extremes (nothing, one, a million): labels never overlap and
axis ticks never repeat. Read back from the SVG itself, as a browser would lay it out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from console import charts

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [f"11-{d:02d}" for d in range(1, 31)]


def _visible(element: ET.Element) -> str:
    # A <title> child is a tooltip, not drawn text.
    return (element.text or "") + "".join(child.tail or "" for child in element)


def text_boxes(svg: str) -> list[tuple[str, float, float, float, float, dict[str, str]]]:
    """(text, x0, x1, y0, y1, attributes) of every drawn text, CJK glyphs one em wide."""
    root = ET.fromstring(svg)
    size = float(root.get("font-size", "12"))
    boxes = []
    for element in root.iter(f"{SVG}text"):
        text = _visible(element)
        width = charts.text_width(text, size)
        x, y = float(element.get("x", "0")), float(element.get("y", "0"))
        anchor = element.get("text-anchor", "start")
        x0 = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
        boxes.append((text, x0, x0 + width, y - 0.8 * size, y + 0.2 * size,
                      dict(element.attrib)))
    return boxes


def overlapping(svg: str) -> list[tuple[str, str]]:
    boxes = text_boxes(svg)
    clashes = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if min(a[2], b[2]) - max(a[1], b[1]) > 0.5 and min(a[4], b[4]) - max(a[3], b[3]) > 0.5:
                clashes.append((a[0], b[0]))
    return clashes


def y_ticks(svg: str) -> list[str]:
    """The y axis labels: the right-aligned texts at the first (left-most) x."""
    ends = [box for box in text_boxes(svg) if box[5].get("text-anchor") == "end"]
    first_x = min(float(box[5]["x"]) for box in ends)
    return [box[0] for box in ends if float(box[5]["x"]) == first_x]


def growth(value: float) -> str:
    """The dashboard's 关注与绑定 chart when followers and bound numbers are equal."""
    series: list[tuple[str, Any]] = [("关注人数", [0.0] * 29 + [value]),
                                     ("绑定号码", [0.0] * 29 + [value])]
    return charts.line_chart(series, DAYS, "关注与绑定")


def inside_view(svg: str) -> bool:
    width, height = (float(v) for v in ET.fromstring(svg).get("viewBox", "").split()[2:])
    return all(b[1] >= -0.5 and b[2] <= width + 0.5 and b[3] >= -0.5 and b[4] <= height + 0.5
               for b in text_boxes(svg))


@pytest.mark.parametrize("value", [0, 1, 1_000_000, 123_456_789])
def test_growth_chart_labels_stay_inside_the_picture(value):
    assert inside_view(growth(value))


@pytest.mark.parametrize("value", [0, 1, 1_000_000])
def test_growth_chart_end_labels_do_not_overlap_when_the_values_are_equal(value):
    svg = growth(value)
    assert overlapping(svg) == []
    if value:
        ends = [b for b in text_boxes(svg) if b[0].startswith(("关注人数", "绑定号码"))]
        assert len(ends) == 2


@pytest.mark.parametrize("value", [1, 2, 3, 7, 1_000_000])
def test_line_chart_y_ticks_are_distinct_and_reach_the_peak(value):
    svg = growth(value)
    ticks = y_ticks(svg)
    assert len(ticks) == len(set(ticks)) >= 2
    assert ticks[0] == "0"


def test_a_million_reads_in_wan_without_a_trailing_zero():
    ticks = y_ticks(growth(1_000_000))
    assert ticks == ["0", "50万", "100万"]


def test_end_labels_stay_inside_the_chart_when_both_are_at_the_top():
    for box in text_boxes(growth(5)):
        assert box[3] >= 0 and box[4] <= 220


@pytest.mark.parametrize("value", [0, 1, 1_000_000])
def test_funnel_and_bar_charts_have_no_overlapping_labels(value):
    funnel = charts.funnel_chart([("收到预警", value), ("已推送", value), ("已送达", value),
                                  ("已回复", value), ("已升级", value)], "预警漏斗")
    bars = charts.bar_chart([("示例派出所", value), ("第二派出所", value)], "stations")
    assert overlapping(funnel) == [] and overlapping(bars) == []


def test_daily_chart_of_small_counts_has_no_duplicate_zero_tick():
    svg = charts.line_chart([("新关注", [0, 1, 0, 0]), ("新绑定", [0, 0, 1, 0])],
                            ["11-01", "11-02", "11-03", "11-04"], "每日新增")
    assert y_ticks(svg) == ["0", "1"]
    assert overlapping(svg) == []


def test_spread_labels_keeps_order_and_gap():
    placed = charts.spread_labels([100.0, 100.0, 101.0], gap=14, low=12, high=196)
    assert placed == sorted(placed)
    assert min(abs(a - b) for i, a in enumerate(placed) for b in placed[i + 1:]) >= 14
