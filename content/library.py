"""The anti-fraud content library: fraud types, articles, FAQ, reply texts and the custom menu.

The shipped data lives in ``content/data/*.json`` (Chinese text). ``load_library`` reads and
validates it once; ``build_library`` validates raw documents (used by ``content.store`` to check a
staff edit before saving it). Validation collects every problem and raises one ``ContentError``
whose lines each name the file, the item and the field.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from content.reply_fields import REPLY_FIELDS

DATA_DIR = Path(__file__).resolve().parent / "data"

# Stable ids other features (alerts, risk list, menu keys) refer to.
REQUIRED_TYPE_IDS = (
    "shuadan", "investment", "loan_credit", "ecommerce_cs", "police", "boss_acquaintance",
    "shopping", "game_trade", "romance", "flight", "phishing_link", "other",
)
# WeChat shows at most this many characters comfortably in one text reply.
MAX_REPLY_CHARS = 600
# https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
MENU_MAX_TOP, MENU_MAX_SUB = 3, 5
MENU_TOP_NAME_BYTES, MENU_SUB_NAME_BYTES, MENU_KEY_BYTES = 16, 60, 128

FILES = {
    "fraud_types": "fraud_types.json",
    "articles": "articles.json",
    "faq": "faq.json",
    "replies": "replies.json",
    "menu": "menu.json",
    "signals": "signals.json",
}


class ContentError(ValueError):
    """The content data is invalid; ``errors`` lists one "file: item: field: problem" per line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid content:\n" + "\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    weight: float
    label: str


@dataclass(frozen=True)
class FraudType:
    id: str
    name: str
    how_it_works: str
    warning_signs: tuple[str, ...]
    typical_scripts: tuple[str, ...]
    what_to_do: tuple[str, ...]
    keywords: Mapping[str, float]
    patterns: tuple[Pattern, ...]


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    summary: str
    body: str
    cover: str
    fraud_types: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class FaqEntry:
    id: str
    question: str
    answer: str


@dataclass(frozen=True)
class Reply:
    name: str
    text: str
    fields: frozenset[str]


# eq=False: a library is compared and hashed by identity, so derived tables can be cached per
# library object (see intel.scamcheck) without hashing its mappings.
@dataclass(frozen=True, eq=False)
class Library:
    """Validated, immutable content. Build with ``load_library`` or ``build_library``."""

    types_by_id: Mapping[str, FraudType]
    articles_by_id: Mapping[str, Article]
    faq: tuple[FaqEntry, ...]
    replies: Mapping[str, Reply]
    menu: Mapping[str, Any]
    signals: Mapping[str, Any]
    documents: Mapping[str, Any] = field(repr=False)

    @property
    def fraud_types(self) -> tuple[FraudType, ...]:
        return tuple(self.types_by_id.values())

    def fraud_type(self, type_id: str) -> FraudType:
        try:
            return self.types_by_id[type_id]
        except KeyError:
            raise KeyError(f"unknown fraud type {type_id!r}") from None

    def article(self, article_id: str) -> Article:
        return self.articles_by_id[article_id]

    def articles_for(self, type_id: str) -> tuple[Article, ...]:
        self.fraud_type(type_id)
        return tuple(a for a in self.articles_by_id.values() if type_id in a.fraud_types)

    def reply(self, name: str, /, **fields: Any) -> str:
        """Render reply ``name``; a missing or undeclared field raises ``KeyError``/``TypeError``."""
        reply = self.replies[name]
        missing = reply.fields - fields.keys()
        if missing:
            raise KeyError(f"reply {name!r} needs fields {sorted(missing)}")
        extra = fields.keys() - reply.fields
        if extra:
            raise TypeError(f"reply {name!r} does not declare fields {sorted(extra)}")
        return reply.text.format_map(fields)


def read_documents(path: Path | str | None = None) -> dict[str, Any]:
    """Read the raw JSON documents of a data directory (no validation)."""
    root = Path(path) if path is not None else DATA_DIR
    docs: dict[str, Any] = {}
    errors: list[str] = []
    for kind, filename in FILES.items():
        try:
            docs[kind] = json.loads((root / filename).read_text(encoding="utf-8"))
        except FileNotFoundError:
            errors.append(f"{filename}: file is missing")
        except json.JSONDecodeError as exc:
            errors.append(f"{filename}: line {exc.lineno}: invalid JSON: {exc.msg}")
    if errors:
        raise ContentError(errors)
    return docs


@lru_cache(maxsize=1)
def _default_library() -> Library:
    return build_library(read_documents(DATA_DIR))


def load_library(path: Path | str | None = None) -> Library:
    """Load and validate the library; the shipped default is read once per process."""
    if path is None:
        return _default_library()
    return build_library(read_documents(path))


def build_library(docs: Mapping[str, Any]) -> Library:
    """Validate raw documents and build a ``Library``; raise ``ContentError`` listing all problems."""
    errors: list[str] = []
    types = _build_types(docs.get("fraud_types"), errors)
    articles = _build_articles(docs.get("articles"), set(types), errors)
    faq = _build_faq(docs.get("faq"), errors)
    replies = _build_replies(docs.get("replies"), errors)
    menu = _check_menu(docs.get("menu"), errors)
    signals = _check_signals(docs.get("signals"), errors)
    if errors:
        raise ContentError(errors)
    return Library(
        types_by_id=MappingProxyType(types),
        articles_by_id=MappingProxyType(articles),
        faq=tuple(faq),
        replies=MappingProxyType(replies),
        menu=MappingProxyType(menu),
        signals=MappingProxyType(signals),
        documents=MappingProxyType(dict(docs)),
    )


def _items(doc: Any, filename: str, errors: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """Return (label, item) pairs of a list document, reporting non-objects and duplicate ids."""
    if not isinstance(doc, list):
        errors.append(f"{filename}: expected a list of items")
        return []
    out: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for index, item in enumerate(doc):
        if not isinstance(item, dict):
            errors.append(f"{filename}: item #{index}: expected an object")
            continue
        item_id = item.get("id")
        label = f"item {item_id!r}" if isinstance(item_id, str) and item_id else f"item #{index}"
        if not isinstance(item_id, str) or not item_id:
            errors.append(f"{filename}: {label}: id: missing or not a string")
        elif item_id in seen:
            errors.append(f"{filename}: {label}: id: duplicate")
        else:
            seen.add(item_id)
        out.append((label, item))
    return out


def _text(item: dict[str, Any], key: str, where: str, errors: list[str]) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{where}: {key}: missing or empty text")
        return ""
    return value


def _text_list(item: dict[str, Any], key: str, where: str, errors: list[str]) -> tuple[str, ...]:
    value = item.get(key)
    if not isinstance(value, list) or not value or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        errors.append(f"{where}: {key}: must be a non-empty list of texts")
        return ()
    return tuple(value)


def _pattern(spec: Any, where: str, errors: list[str]) -> Pattern | None:
    if not isinstance(spec, dict):
        errors.append(f"{where}: expected an object with regex, weight, label")
        return None
    try:
        regex = re.compile(str(spec.get("regex", "")))
    except re.error as exc:
        errors.append(f"{where}: regex: does not compile: {exc}")
        return None
    weight = spec.get("weight")
    if not isinstance(weight, (int, float)) or isinstance(weight, bool):
        errors.append(f"{where}: weight: must be a number")
        return None
    label = spec.get("label")
    if not isinstance(label, str) or not label:
        errors.append(f"{where}: label: missing")
        return None
    return Pattern(regex, float(weight), label)


def _build_types(doc: Any, errors: list[str]) -> dict[str, FraudType]:
    filename = FILES["fraud_types"]
    types: dict[str, FraudType] = {}
    for label, item in _items(doc, filename, errors):
        where = f"{filename}: {label}"
        signals = item.get("signals")
        keywords: dict[str, float] = {}
        patterns: list[Pattern] = []
        if not isinstance(signals, dict):
            errors.append(f"{where}: signals: missing")
        else:
            raw_kw = signals.get("keywords", {})
            if not isinstance(raw_kw, dict) or not all(
                isinstance(w, (int, float)) for w in raw_kw.values()
            ):
                errors.append(f"{where}: signals.keywords: must map words to numbers")
            else:
                # Matching runs on lower-cased text, so keywords are stored lower-cased.
                keywords = {k.lower(): float(w) for k, w in raw_kw.items()}
            for i, spec in enumerate(signals.get("patterns", [])):
                pattern = _pattern(spec, f"{where}: signals.patterns[{i}]", errors)
                if pattern:
                    patterns.append(pattern)
        fraud_type = FraudType(
            id=str(item.get("id")),
            name=_text(item, "name", where, errors),
            how_it_works=_text(item, "how_it_works", where, errors),
            warning_signs=_text_list(item, "warning_signs", where, errors),
            typical_scripts=_text_list(item, "typical_scripts", where, errors),
            what_to_do=_text_list(item, "what_to_do", where, errors),
            keywords=MappingProxyType(keywords),
            patterns=tuple(patterns),
        )
        types[fraud_type.id] = fraud_type
    for type_id in REQUIRED_TYPE_IDS:
        if isinstance(doc, list) and type_id not in types:
            errors.append(f"{filename}: item {type_id!r}: required fraud type is missing")
    return types


def _build_articles(doc: Any, type_ids: set[str], errors: list[str]) -> dict[str, Article]:
    filename = FILES["articles"]
    articles: dict[str, Article] = {}
    for label, item in _items(doc, filename, errors):
        where = f"{filename}: {label}"
        fraud_types = _text_list(item, "fraud_types", where, errors)
        for type_id in fraud_types:
            if type_id not in type_ids:
                errors.append(f"{where}: fraud_types: unknown fraud type {type_id!r}")
        tags = item.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            errors.append(f"{where}: tags: must be a list of texts")
            tags = []
        article = Article(
            id=str(item.get("id")),
            title=_text(item, "title", where, errors),
            summary=_text(item, "summary", where, errors),
            body=_text(item, "body", where, errors),
            cover=_text(item, "cover", where, errors),
            fraud_types=fraud_types,
            tags=tuple(tags),
        )
        articles[article.id] = article
    return articles


def _build_faq(doc: Any, errors: list[str]) -> list[FaqEntry]:
    filename = FILES["faq"]
    return [
        FaqEntry(
            id=str(item.get("id")),
            question=_text(item, "question", f"{filename}: {label}", errors),
            answer=_text(item, "answer", f"{filename}: {label}", errors),
        )
        for label, item in _items(doc, filename, errors)
    ]


def template_fields(text: str) -> set[str]:
    """Names used as ``{field}`` in a ``str.format_map`` template."""
    names: set[str] = set()
    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None:
            names.add(name)
    return names


def placeholder_problems(text: str) -> list[str]:
    """Why ``text`` is not a plain-placeholder template: ``{field}`` only. A format spec
    (``{whose:>50000000}`` allocates 50 MB per render), a conversion (``{x!r}``), attribute or
    index access (``{x.y}``, ``{x[0]}``) and positional ``{}`` are refused."""
    problems: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        return [f"bad template: {exc}"]
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "") + (
            f":{spec}" if spec else "") + "}"
        if not name.isidentifier():
            problems.append(f"{shown}: only plain {{field}} names are allowed "
                            "(no positions, attributes or indexes)")
        elif conversion:
            problems.append(f"{shown}: conversions (!r, !s, !a) are not allowed")
        elif spec:
            problems.append(f"{shown}: format specs are not allowed")
    return problems


def _build_replies(doc: Any, errors: list[str]) -> dict[str, Reply]:
    filename = FILES["replies"]
    if not isinstance(doc, dict):
        errors.append(f"{filename}: expected an object of named replies")
        return {}
    replies: dict[str, Reply] = {}
    for name, spec in doc.items():
        where = f"{filename}: reply {name!r}"
        if not isinstance(spec, dict):
            errors.append(f"{where}: expected an object with text and fields")
            continue
        fixed = REPLY_FIELDS.get(name)
        if fixed is None:
            errors.append(f"{where}: no code renders this reply "
                          "(content/reply_fields.py lists the replies and their fields)")
            continue
        errors_before = len(errors)
        text = _text(spec, "text", where, errors)
        declared = spec.get("fields", sorted(fixed))
        if not isinstance(declared, list) or set(declared) != fixed:
            errors.append(f"{where}: fields: fixed by code as {_names(fixed)}; "
                          "an edit cannot change them")
        problems = placeholder_problems(text)
        for problem in problems:
            errors.append(f"{where}: text: {problem}")
        if problems:
            continue
        used = template_fields(text)
        for bad in sorted(used - fixed):
            errors.append(f"{where}: text: uses {{{bad}}}, which this reply does not have "
                          f"(its fields: {_names(fixed)})")
        for missing in sorted(fixed - used):
            errors.append(f"{where}: text: must keep {{{missing}}} "
                          f"(its fields: {_names(fixed)})")
        if len(text) > MAX_REPLY_CHARS:
            errors.append(f"{where}: text: {len(text)} chars, over {MAX_REPLY_CHARS}")
        if len(errors) > errors_before:
            continue
        try:
            text.format_map({field_name: "示例" for field_name in fixed})
        except Exception as exc:  # noqa: BLE001 - a test render: whatever it raises, refuse
            errors.append(f"{where}: text: does not render: {type(exc).__name__}: {exc}")
            continue
        replies[name] = Reply(name=name, text=text, fields=fixed)
    return replies


def _names(fields: frozenset[str]) -> str:
    return ", ".join("{" + f + "}" for f in sorted(fields)) or "none"


def _check_menu(doc: Any, errors: list[str]) -> dict[str, Any]:
    filename = FILES["menu"]
    buttons = doc.get("button") if isinstance(doc, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MENU_MAX_TOP:
        errors.append(f"{filename}: button: must list 1 to {MENU_MAX_TOP} top-level buttons")
        return {}
    keys: set[str] = set()

    def check(button: Any, where: str, name_bytes: int) -> None:
        if not isinstance(button, dict):
            errors.append(f"{where}: expected an object")
            return
        name = button.get("name")
        if not isinstance(name, str) or not name or len(name.encode()) > name_bytes:
            errors.append(f"{where}: name: missing or longer than {name_bytes} bytes")
        if "sub_button" in button:
            return
        if button.get("type") != "click":
            errors.append(f"{where}: type: only 'click' buttons are used")
        key = button.get("key")
        if not isinstance(key, str) or not key or len(key.encode()) > MENU_KEY_BYTES:
            errors.append(f"{where}: key: missing or longer than {MENU_KEY_BYTES} bytes")
        elif key in keys:
            errors.append(f"{where}: key: duplicate {key!r}")
        else:
            keys.add(key)

    for i, button in enumerate(buttons):
        where = f"{filename}: button[{i}]"
        check(button, where, MENU_TOP_NAME_BYTES)
        subs = button.get("sub_button") if isinstance(button, dict) else None
        if subs is None:
            continue
        if not isinstance(subs, list) or not 1 <= len(subs) <= MENU_MAX_SUB:
            errors.append(f"{where}: sub_button: must list 1 to {MENU_MAX_SUB} buttons")
            continue
        for j, sub in enumerate(subs):
            check(sub, f"{where}.sub_button[{j}]", MENU_SUB_NAME_BYTES)
    return dict(doc)


def _check_signals(doc: Any, errors: list[str]) -> dict[str, Any]:
    filename = FILES["signals"]
    if not isinstance(doc, dict):
        errors.append(f"{filename}: expected an object")
        return {}
    for key in ("threshold", "min_type_score", "link_weight", "masked_link_weight",
                "ip_link_weight", "lookalike_weight", "model_high", "model_suspicious",
                "model_type_min", "benign_veto", "model_min_chars"):
        if not isinstance(doc.get(key), (int, float)):
            errors.append(f"{filename}: {key}: must be a number")
    verdicts = doc.get("verdicts")
    if not isinstance(verdicts, dict) or not all(
            isinstance(verdicts.get(level), str) for level in ("high", "suspicious", "none")):
        errors.append(f"{filename}: verdicts: must name the high, suspicious and none verdicts")
    for group in ("generic", "benign"):
        specs = doc.get(group)
        if not isinstance(specs, list):
            errors.append(f"{filename}: {group}: must be a list of patterns")
            continue
        for i, spec in enumerate(specs):
            _pattern(spec, f"{filename}: {group}[{i}]", errors)
    return dict(doc)
