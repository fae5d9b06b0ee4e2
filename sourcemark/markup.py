"""The corpus authoring format (``.sm`` files) and its compiler to annotated JSONL.

Writing character offsets by hand is error-prone, so corpus articles are
written with inline tags and compiled. One file holds one article::

    @doc_id: syr-wire-001
    @style: wire_report
    @conflict: syria
    @layout: wordpress
    ---
    <C>Government forces entered the town on Monday.</C> <A>The state news
    agency {SANA|state_media} said troops had "restored security".</A>

    <O>12 Comments</O>

Passage tags: ``<C>`` claim, ``<A>`` attributed_report, ``<N>`` analysis,
``<R>`` reader_comment, ``<O>`` other. A passage tag may carry attributes
(``<A rules="2,6" hard="hedged">``), kept on the passage. A source mention is
``{span|type}`` inside a passage. Outside passages only whitespace is allowed.
The compiled text is the body with all markup removed.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from sourcemark.documents import Document, Passage, SourceMention
from sourcemark.labels import ROLES, SOURCE_TYPES

TAG_ROLES: dict[str, str] = {
    "C": "claim",
    "A": "attributed_report",
    "N": "analysis",
    "R": "reader_comment",
    "O": "other",
}
assert set(TAG_ROLES.values()) == set(ROLES)

_PASSAGE_RE = re.compile(r"<([CANRO])((?:\s+[a-z_]+=\"[^\"]*\")*)>(.*?)</\1>", re.S)
_ATTR_RE = re.compile(r"([a-z_]+)=\"([^\"]*)\"")
_MENTION_RE = re.compile(r"\{([^{}|]+)\|([a-z_]+)\}")
_STRAY_RE = re.compile(r"</?[CANRO](?:\s[^>]*)?>|[{}]")


class MarkupError(ValueError):
    """A ``.sm`` file breaks the authoring format; the message names file and line."""


@dataclass
class _Cursor:
    path: str
    source: str

    def line_of(self, index: int) -> int:
        return self.source.count("\n", 0, index) + 1

    def fail(self, index: int, message: str) -> MarkupError:
        return MarkupError(f"{self.path}:{self.line_of(index)}: {message}")


def _parse_header(path: str, source: str) -> tuple[dict[str, str], int]:
    meta: dict[str, str] = {}
    offset = 0
    for line in source.splitlines(keepends=True):
        stripped = line.strip()
        offset += len(line)
        if stripped == "---":
            return meta, offset
        if not stripped:
            continue
        if not stripped.startswith("@") or ":" not in stripped:
            raise MarkupError(f"{path}: header line {stripped!r} is not '@key: value'")
        key, value = stripped[1:].split(":", 1)
        meta[key.strip()] = value.strip()
    raise MarkupError(f"{path}: no '---' line ends the header")


def _compile_passage(
    cur: _Cursor, body_offset: int, match: re.Match[str], out: list[str], out_len: int
) -> tuple[Passage, int]:
    role = TAG_ROLES[match.group(1)]
    attrs = dict(_ATTR_RE.findall(match.group(2) or ""))
    inner = match.group(3)
    inner_start = body_offset + match.start(3)
    if _STRAY_RE.search(_MENTION_RE.sub("", inner)):
        bad = _STRAY_RE.search(_MENTION_RE.sub("", inner))
        raise cur.fail(inner_start, f"stray markup {bad.group(0)!r} inside a passage")
    pieces: list[str] = []
    mentions: list[SourceMention] = []
    cursor = 0
    length = 0
    for m in _MENTION_RE.finditer(inner):
        pieces.append(inner[cursor : m.start()])
        length += m.start() - cursor
        span, kind = m.group(1), m.group(2)
        if kind not in SOURCE_TYPES:
            raise cur.fail(inner_start + m.start(), f"unknown source type {kind!r}")
        if span != span.strip() or not span.strip():
            raise cur.fail(inner_start + m.start(), f"mention {span!r} has edge whitespace")
        mentions.append(SourceMention(out_len + length, out_len + length + len(span), kind))
        pieces.append(span)
        length += len(span)
        cursor = m.end()
    pieces.append(inner[cursor:])
    length += len(inner) - cursor
    text = "".join(pieces)
    if not text.strip() or text != text.strip():
        raise cur.fail(inner_start, f"passage text {text[:40]!r} is empty or has edge whitespace")
    if role == "attributed_report" and not mentions:
        raise cur.fail(inner_start, f"attributed_report without a {{mention|type}}: {text[:60]!r}")
    out.append(text)
    extra: dict[str, object] = {}
    if "rules" in attrs:
        extra["rules"] = [int(r) for r in attrs.pop("rules").split(",") if r.strip()]
    extra.update(attrs)
    return Passage(out_len, out_len + len(text), role, mentions, extra=extra), out_len + len(text)


def compile_markup(source: str, path: str = "<string>") -> Document:
    """Compile the text of one ``.sm`` file into an annotated Document."""
    meta, body_offset = _parse_header(path, source)
    doc_id = meta.pop("doc_id", "") or Path(path).stem
    body = source[body_offset:]
    cur = _Cursor(path, source)
    out: list[str] = []
    passages: list[Passage] = []
    out_len = 0
    cursor = 0
    for match in _PASSAGE_RE.finditer(body):
        gap = body[cursor : match.start()]
        if gap.strip():
            raise cur.fail(body_offset + cursor + len(gap) - len(gap.lstrip()),
                           f"text outside any passage: {gap.strip()[:60]!r}")
        out.append(gap)
        out_len += len(gap)
        passage, out_len = _compile_passage(cur, body_offset, match, out, out_len)
        passages.append(passage)
        cursor = match.end()
    tail = body[cursor:]
    if tail.strip():
        raise cur.fail(body_offset + cursor, f"text outside any passage: {tail.strip()[:60]!r}")
    text = "".join(out).rstrip() + "\n"
    meta["source_file"] = Path(path).name
    meta["sha1"] = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    return Document(doc_id=doc_id, text=text, meta=meta, passages=passages)


def compile_files(paths: Iterable[Path]) -> list[Document]:
    """Compile several files, collecting every error before raising."""
    docs: list[Document] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for path in sorted(paths):
        try:
            doc = compile_markup(path.read_text(encoding="utf-8"), str(path))
        except MarkupError as exc:
            errors.append(str(exc))
            continue
        if doc.doc_id in seen:
            errors.append(f"{path}: doc_id {doc.doc_id!r} already used by {seen[doc.doc_id]}")
        seen[doc.doc_id] = str(path)
        docs.append(doc)
    if errors:
        raise MarkupError("\n".join(errors))
    return docs


def main(argv: list[str] | None = None) -> int:
    """``python -m sourcemark.markup FILE...``: compile and print a summary."""
    args = sys.argv[1:] if argv is None else argv
    try:
        docs = compile_files(Path(a) for a in args)
    except MarkupError as exc:
        print(exc, file=sys.stderr)
        return 1
    for doc in docs:
        counts = {r: sum(p.label == r for p in doc.passages) for r in ROLES}
        mentions = sum(len(p.sources) for p in doc.passages)
        print(f"{doc.doc_id}: {len(doc.passages)} passages {counts} {mentions} mentions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
