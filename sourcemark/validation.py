"""Checks an annotated-documents file against FORMATS.md and the guide's label ids.

Works on the raw JSON rather than on parsed Documents so that it can name
every problem in a record, not just the first one that stops parsing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from sourcemark.documents import Document, FormatError
from sourcemark.jsonl import iter_jsonl
from sourcemark.labels import ROLES, SOURCE_TYPES

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One finding; ``where`` is ``FILE:LINE`` and ``doc_id`` may be ``?``."""

    level: str
    where: str
    doc_id: str
    message: str

    def __str__(self) -> str:
        prefix = "" if self.level == ERROR else "warning: "
        return f"{self.where}: {self.doc_id}: {prefix}{self.message}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_span(obj: Mapping[str, Any], name: str, lo: int, hi: int) -> list[str]:
    start, end = obj.get("start"), obj.get("end")
    if not _is_int(start) or not _is_int(end):
        return [f"{name}: 'start' and 'end' must be integers (got {start!r}, {end!r})"]
    if not lo <= start < end <= hi:
        return [f"{name}: offsets [{start}, {end}) out of range [{lo}, {hi}]"]
    return []


def _check_score(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        return [f"{name}: 'score' must be a number in [0, 1], got {value!r}"]
    return []


def _check_mentions(passage: Mapping[str, Any], name: str) -> list[str]:
    sources = passage.get("sources", [])
    if not isinstance(sources, list):
        return [f"{name}: 'sources' must be a list"]
    errors: list[str] = []
    for j, source in enumerate(sources):
        sname = f"{name} source {j}"
        if not isinstance(source, Mapping):
            errors.append(f"{sname}: must be an object")
            continue
        if source.get("type") not in SOURCE_TYPES:
            errors.append(f"{sname}: unknown source type {source.get('type')!r}")
        span_errors = _check_span(source, sname, passage["start"], passage["end"])
        if span_errors:
            errors.append(span_errors[0].replace("out of range", "not inside its passage"))
        errors += _check_score(source.get("score"), sname)
    return errors


def _check_passage(passage: Any, name: str, text_len: int, require_label: bool) -> list[str]:
    if not isinstance(passage, Mapping):
        return [f"{name}: must be an object"]
    errors = _check_span(passage, name, 0, text_len)
    label = passage.get("label")
    if label is None:
        if require_label:
            errors.append(f"{name}: missing 'label'")
    elif label not in ROLES:
        errors.append(f"{name}: unknown role {label!r}")
    probs = passage.get("probs")
    if probs is not None:
        if not isinstance(probs, Mapping) or set(probs) - set(ROLES):
            errors.append(f"{name}: 'probs' must map role ids to numbers")
    errors += _check_score(passage.get("score"), name)
    if not errors:
        errors += _check_mentions(passage, name)
    return errors


def validate_record(
    obj: Any, where: str, require_label: bool = True
) -> Iterator[Problem]:
    """Yield every problem of one parsed JSONL value."""
    if not isinstance(obj, Mapping):
        yield Problem(ERROR, where, "?", f"expected a JSON object, got {type(obj).__name__}")
        return
    doc_id = obj.get("doc_id")
    shown_id = doc_id if isinstance(doc_id, str) and doc_id else "?"
    if shown_id == "?":
        yield Problem(ERROR, where, shown_id, "missing or empty 'doc_id'")
    text = obj.get("text")
    if not isinstance(text, str):
        yield Problem(ERROR, where, shown_id, "missing 'text' (must be a string)")
        return
    meta = obj.get("meta")
    if meta is not None and not isinstance(meta, Mapping):
        yield Problem(ERROR, where, shown_id, "'meta' must be an object")
    passages = obj.get("passages", [])
    if not isinstance(passages, list):
        yield Problem(ERROR, where, shown_id, "'passages' must be a list")
        return
    previous_end = 0
    for i, passage in enumerate(passages):
        name = f"passage {i}"
        errors = _check_passage(passage, name, len(text), require_label)
        for message in errors:
            yield Problem(ERROR, where, shown_id, message)
        if errors:
            continue
        if passage["start"] < previous_end:
            yield Problem(
                ERROR, where, shown_id,
                f"{name}: starts at {passage['start']}, before the previous passage ends "
                f"({previous_end}); passages must be sorted and not overlap",
            )
        previous_end = max(previous_end, passage["end"])
        if not text[passage["start"] : passage["end"]].strip():
            yield Problem(WARNING, where, shown_id, f"{name}: covers only whitespace")
        if passage.get("label") == "attributed_report" and not passage.get("sources"):
            yield Problem(WARNING, where, shown_id, f"{name}: attributed_report without a source mention")


def validate_file(
    path: str | os.PathLike[str], require_label: bool = True
) -> Iterator[Problem]:
    """Yield every problem of an annotated-documents JSONL file, streaming."""
    seen: set[str] = set()
    count = 0
    try:
        for record in iter_jsonl(path):
            count += 1
            if record.error:
                yield Problem(ERROR, record.where, "?", record.error)
                continue
            yield from validate_record(record.value, record.where, require_label)
            doc_id = record.value.get("doc_id") if isinstance(record.value, Mapping) else None
            if isinstance(doc_id, str):
                if doc_id in seen:
                    yield Problem(ERROR, record.where, doc_id, "duplicate doc_id in this file")
                seen.add(doc_id)
    except OSError as exc:
        yield Problem(ERROR, f"{path}:0", "?", f"cannot read file: {exc.strerror or exc}")
        return
    if count == 0:
        yield Problem(ERROR, f"{path}:0", "?", "file has no documents")


def read_checked_documents(path: str | os.PathLike[str]) -> list[Document]:
    """All documents of a labelled file that must be whole (training data), each checked first.

    ``read_documents`` parses structure only: a label id outside the guide or
    an offset past the text would reach training and fail far from its cause,
    or silently train on nothing. The first error is raised with file, line
    and doc_id.
    """
    docs = []
    for record in iter_jsonl(path):
        if record.error:
            raise FormatError(f"{record.where}: {record.error}")
        errors = [p for p in validate_record(record.value, record.where) if p.level == ERROR]
        if errors:
            raise FormatError(str(errors[0]))
        docs.append(Document.from_dict(record.value))
    return docs
