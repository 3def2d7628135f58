"""Reading the labelled corpora in ``corpora/`` (training and evaluation texts).

Two formats, both one text per line:
- ``*.txt`` written by the project: ``# source:`` and ``# licence:`` header lines, then
  ``[type_id]`` sections for fraud, ``[notice]`` / ``[chat]`` sections for benign texts.
- ``*.jsonl`` quoted from public pages: ``text``, ``label`` (fraud | benign), ``fraud_type``,
  ``source`` (the page URL), ``licence``, optional ``kind`` and ``split``.

Every item comes back as a dict with text, label, fraud_type, kind, source and licence, so no
text enters training or evaluation without saying where it came from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent / "corpora"
BENIGN_SECTIONS = frozenset({"notice", "chat"})


class CorpusError(ValueError):
    """A corpus file is malformed: an item without section, source or licence."""


def read_corpus(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".jsonl":
        return _read_jsonl(path)
    return _read_sectioned(path)


def _read_sectioned(path: Path) -> list[dict[str, Any]]:
    header: dict[str, str] = {}
    section: str | None = None
    items: list[dict[str, Any]] = []
    for line_no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            header[key.strip()] = value.strip()
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if section is None or "source" not in header or "licence" not in header:
            raise CorpusError(f"{path.name}:{line_no}: text before a section or header")
        benign = section in BENIGN_SECTIONS
        items.append({
            "text": line,
            "label": "benign" if benign else "fraud",
            "fraud_type": None if benign else section,
            "kind": section if benign else "fraud",
            "source": header["source"].split(":", 1)[0],
            "licence": header["licence"].split(" ", 1)[0],
        })
    return items


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    items = []
    for line_no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        item = json.loads(raw)
        if not item.get("source") or not item.get("licence"):
            raise CorpusError(f"{path.name}:{line_no}: item without source or licence")
        item.setdefault("fraud_type", None)
        item.setdefault("kind", "fraud" if item["label"] == "fraud" else "notice")
        items.append(item)
    return items


def read_dir(folder: Path) -> list[dict[str, Any]]:
    """Every item of every corpus file in ``folder``, in file-name order."""
    items: list[dict[str, Any]] = []
    for path in sorted(folder.iterdir()):
        if path.suffix in (".txt", ".jsonl"):
            items.extend(read_corpus(path))
    return items
