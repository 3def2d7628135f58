"""`endfraud check`: run the bot's scam check over texts from stdin, one JSON result per line.

Each result keeps ``fraud``, ``fraud_type``, ``score`` (the rules' score) and ``reason``, and
adds ``level`` (high | suspicious | none), ``verdict`` (高度疑似诈骗 / 可疑，请核实 /
未发现明显特征) and ``model_p`` (the trained model's fraud probability).

Input lines are plain text or JSON objects with a ``text`` field (decided per line: a line that
starts with ``{`` is JSON). Empty lines are skipped; a line that cannot be read yields an object
with an ``error`` field so a batch never stops half-way.
"""

from __future__ import annotations

import json
from typing import IO, Any

from content.library import Library, load_library
from intel.scamcheck import check_text


def _text_of(line: str) -> str:
    if not line.lstrip().startswith("{"):
        return line
    obj = json.loads(line)
    text = obj.get("text") if isinstance(obj, dict) else None
    if not isinstance(text, str):
        raise ValueError("JSON line has no string field 'text'")
    return text


def run_check(stdin: IO[str], stdout: IO[str], library: Library | None = None) -> int:
    """Process every line of ``stdin``; return the number of lines that produced an error."""
    library = library or load_library()
    failures = 0
    for line_no, raw in enumerate(stdin, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        out: dict[str, Any]
        try:
            result = check_text(_text_of(line), library)
            out = {
                "fraud": result.fraud,
                "fraud_type": result.fraud_type,
                "score": result.score,
                "reason": result.reason,
                "level": result.level,
                "verdict": library.signals["verdicts"][result.level],
                "model_p": result.model_p,
            }
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            failures += 1
            out = {"line": line_no, "error": str(exc)}
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    stdout.flush()
    return failures
