"""Server-rendered SVG charts: plain functions from numbers to an SVG string.

No JavaScript charting library and no CDN: the console must work on a police intranet. Each chart
prints its numbers next to the marks, so it reads at a glance and survives a screenshot or print.
Labels arrive from staff data (station names), so every text node is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

PALETTE = ("#1f6feb", "#2da44e", "#bf8700", "#cf222e", "#8250df", "#57606a")
FONT = ('font-family="system-ui, -apple-system, &quot;PingFang SC&quot;, '
        '&quot;Microsoft YaHei&quot;, sans-serif"')


def _fmt(value: float) -> str:
    if value >= 100_000_000:
        return f"{value / 100_000_000:.1f}".removesuffix(".0") + "亿"
    if value >= 10_000:
        return f"{value / 10_000:.1f}".removesuffix(".0") + "万"
    return f"{value:g}" if value != int(value) else f"{int(value)}"


def text_width(text: str, size: float) -> float:
    """Rough drawn width: CJK glyphs one em, Latin digits and letters about 0.6 em (pure)."""
    return sum(size if ord(c) > 0x2000 else 0.6 * size for c in text)


def _empty(width: int, height: int, title: str, message: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(title)}" {FONT} font-size="14">'
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#57606a">'
            f'{escape(message)}</text></svg>')


def bar_chart(rows: Sequence[tuple[str, float]], title: str, *, width: int = 440,
              empty_message: str = "暂无数据") -> str:
    """Horizontal bars, largest first as given, the value printed at the end of each bar."""
    if not rows:
        return _empty(width, 60, title, empty_message)
    label_w, bar_h, gap = 110, 24, 8
    height = len(rows) * (bar_h + gap) + gap
    top = max(max(v for _, v in rows), 1)
    span = width - label_w - 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" {FONT} font-size="14">']
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = max(span * value / top, 1 if value else 0)
        short = label if len(label) <= 10 else label[:9] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" fill="#24292f">'
                     f'<title>{escape(label)}</title>{escape(short)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="3" '
                     f'fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" fill="#24292f">'
                     f'{_fmt(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def funnel_chart(stages: Sequence[tuple[str, float]], title: str, *, width: int = 440) -> str:
    """Stages top to bottom, bar width relative to the first; each shows count and % of first."""
    if not stages or not any(v for _, v in stages):
        return _empty(width, 60, title, "暂无预警数据")
    bar_h, gap, label_w = 30, 6, 80
    height = len(stages) * (bar_h + gap) + gap
    first = max(stages[0][1], max(v for _, v in stages), 1)
    span = width - label_w - 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" {FONT} font-size="14">']
    for i, (label, value) in enumerate(stages):
        y = gap + i * (bar_h + gap)
        w = max(span * value / first, 2)
        x = label_w + (span - w) / 2
        share = f"{100 * value / stages[0][1]:.0f}%" if stages[0][1] else "—"
        parts.append(f'<text x="{label_w - 8}" y="{y + 20}" text-anchor="end" fill="#24292f">'
                     f'{escape(label)}</text>')
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="3" '
                     f'fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text x="{label_w + span / 2:.1f}" y="{y + 20}" text-anchor="middle" '
                     f'fill="#ffffff" stroke="#24292f" stroke-width="0.3" font-weight="600">'
                     f'{_fmt(value)}（{share}）</text>')
    parts.append("</svg>")
    return "".join(parts)


def nice_ticks(peak: float, count: int = 2) -> list[float]:
    """Distinct round y-axis ticks from 0 to at least ``peak`` (pure): integer steps of 1, 2 or 5
    times a power of ten, never two equal ticks (a peak of 1 gives 0 and 1, not 0, 0, 1)."""
    if peak <= 0:
        return [0.0, 1.0]
    raw = peak / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), 10 * magnitude)
    top = math.ceil(peak / step) * step
    return [float(step * i) for i in range(round(top / step) + 1)]


def spread_labels(ys: Sequence[float], gap: float, low: float, high: float) -> list[float]:
    """Move label baselines apart so no two are closer than ``gap``, keeping their order and
    staying within ``low``..``high`` where there is room (pure)."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed = [ys[i] for i in order]
    for k in range(1, len(placed)):
        placed[k] = max(placed[k], placed[k - 1] + gap)
    overflow = placed[-1] - high if placed else 0
    if overflow > 0:
        placed = [y - overflow for y in placed]
        for k in range(len(placed) - 2, -1, -1):
            placed[k] = min(placed[k], placed[k + 1] - gap)
    if placed and placed[0] < low:
        placed = [y + (low - placed[0]) for y in placed]
    result = [0.0] * len(ys)
    for k, i in enumerate(order):
        result[i] = placed[k]
    return result


def line_chart(series: Sequence[tuple[str, Sequence[float]]], labels: Sequence[str], title: str,
               *, width: int = 440, height: int = 220) -> str:
    """One or more lines over the same x labels (days); the last value of each line is printed
    at the line's end, pushed apart when lines end close together."""
    if not labels or not any(any(values) for _, values in series):
        return _empty(width, 60, title, "暂无历史数据（每小时记录一次）")
    font = 12
    end_texts = [f"{name} {_fmt(values[-1])}" for name, values in series if values]
    # Room on the right for the longest end label ("关注人数 100万"), so none is cut off.
    right = max(90, int(max((text_width(t, font) for t in end_texts), default=0)) + 12)
    ticks = nice_ticks(max(max(values, default=0) for _, values in series))
    peak = ticks[-1]
    left = max(50, int(max(text_width(_fmt(t), font) for t in ticks)) + 12)
    top, bottom = 14, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" {FONT} font-size="{font}">']
    for tick in ticks:
        y = top + plot_h * (1 - tick / peak)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     f'stroke="#d0d7de"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#57606a">'
                     f'{_fmt(tick)}</text>')
    shown = sorted({0, len(labels) - 1, (len(labels) - 1) // 2})
    for i in shown:
        parts.append(f'<text x="{left + i * step:.1f}" y="{height - 8}" text-anchor="middle" '
                     f'fill="#57606a">{escape(labels[i])}</text>')
    ends: list[tuple[str, str, float]] = []
    for n, (name, values) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{left + i * step:.1f},{top + plot_h * (1 - v / peak):.1f}"
                          for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" '
                     f'points="{points}"/>')
        if values:
            ends.append((colour, f"{name} {_fmt(values[-1])}",
                         top + plot_h * (1 - values[-1] / peak) + 4))
    baselines = spread_labels([y for _, _, y in ends], font + 2, font, height - bottom + 4)
    for (colour, text, _), y in zip(ends, baselines, strict=True):
        parts.append(f'<text x="{left + plot_w + 6}" y="{y:.1f}" fill="{colour}">'
                     f'{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
