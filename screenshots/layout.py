"""Reading order: recognised text boxes → the lines a person reads, top to bottom, left to right.

OCR returns one box per text run, in detection order. Boxes whose vertical extents overlap by
more than half the smaller height sit on one line (a bubble's text beside its sender name or a
timestamp); lines are ordered by their top edge, boxes within a line by their left edge. Boxes
without a letter, digit or CJK character are dropped. ``paragraphs`` rejoins the rows of one
wrapped message: same left edge, same text height, next row down.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    """One recognised text run: its text, confidence and axis-aligned bounds in pixels."""

    text: str
    score: float
    left: float
    top: float
    right: float
    bottom: float

    @classmethod
    def from_quad(cls, quad: Sequence[Point], text: str, score: float,
                  dy: float = 0.0) -> Box:
        xs = [float(p[0]) for p in quad]
        ys = [float(p[1]) + dy for p in quad]
        return cls(text, float(score), min(xs), min(ys), max(xs), max(ys))

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)


@dataclass(frozen=True)
class Line:
    text: str
    top: float
    score: float
    left: float = 0.0
    bottom: float = 0.0

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)


def _same_line(a: Box, b: Box) -> bool:
    overlap = min(a.bottom, b.bottom) - max(a.top, b.top)
    return overlap > 0.5 * min(a.height, b.height)


def _has_text(text: str) -> bool:
    # Icons, emoji and round shapes come back as lone symbols ("●"): not text anyone wrote.
    return any(ch.isalnum() for ch in text)


def reading_order(boxes: Iterable[Box], min_score: float = 0.0) -> list[Line]:
    """Group ``boxes`` into lines in reading order; boxes below ``min_score`` are dropped."""
    kept = sorted((b for b in boxes if _has_text(b.text) and b.score >= min_score),
                  key=lambda b: (b.top, b.left))
    rows: list[list[Box]] = []
    for box in kept:
        for row in rows:
            if any(_same_line(box, other) for other in row):
                row.append(box)
                break
        else:
            rows.append([box])
    lines = []
    for row in rows:
        row.sort(key=lambda b: b.left)
        lines.append(Line(text=" ".join(b.text.strip() for b in row),
                          top=min(b.top for b in row),
                          score=min(b.score for b in row),
                          left=min(b.left for b in row),
                          bottom=max(b.bottom for b in row)))
    lines.sort(key=lambda line: line.top)
    return lines


def _continues(previous: Line, line: Line) -> bool:
    """Is ``line`` the wrapped continuation of ``previous`` (same bubble, next row)?"""
    height = min(previous.height, line.height)
    gap = line.top - previous.bottom
    return (gap < 0.6 * height and abs(line.left - previous.left) < height
            and abs(line.height - previous.height) < 0.3 * max(previous.height, line.height))


def paragraphs(lines: Sequence[Line]) -> list[str]:
    """Lines wrapped inside one bubble rejoined: a chat app breaks a message (and a link in it)
    wherever the bubble ends, so the pieces are joined without a separator."""
    joined: list[str] = []
    previous: Line | None = None
    for line in lines:
        if previous is not None and joined and _continues(previous, line):
            joined[-1] += line.text
        else:
            joined.append(line.text)
        previous = line
    return joined
