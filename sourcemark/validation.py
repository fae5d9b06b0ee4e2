"""Checks annotated documents against FORMATS.md and the guide's label ids.

A record is first parsed into a Document (its shape), then checked by
:func:`validate_document`, which names every rule it breaks. Every stage that
takes labelled documents asks this one function.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from sourcemark.documents import Document, FormatError, Passage
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


def _check_score(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        return [f"{name}: 'score' must be a number in [0, 1], got {value!r}"]
    return []


def _check_mentions(passage: Passage, name: str) -> list[str]:
    errors: list[str] = []
    for j, source in enumerate(passage.sources):
        sname = f"{name} source {j}"
        if source.type not in SOURCE_TYPES:
            errors.append(f"{sname}: unknown source type {source.type!r}")
        if not passage.start <= source.start < source.end <= passage.end:
            errors.append(f"{sname}: offsets [{source.start}, {source.end}) not inside its passage "
                          f"[{passage.start}, {passage.end}]")
        errors += _check_score(source.score, sname)
    return errors


def _check_passage(passage: Passage, name: str, text_len: int, require_label: bool) -> list[str]:
    errors = []
    if not 0 <= passage.start < passage.end <= text_len:
        errors.append(f"{name}: offsets [{passage.start}, {passage.end}) out of range [0, {text_len}]")
    if passage.label is None:
        if require_label:
            errors.append(f"{name}: missing 'label'")
    elif passage.label not in ROLES:
        errors.append(f"{name}: unknown role {passage.label!r}")
    if passage.probs is not None and set(passage.probs) - set(ROLES):
        errors.append(f"{name}: 'probs' must map role ids to numbers")
    errors += _check_score(passage.score, name)
    if not errors:
        errors += _check_mentions(passage, name)
    return errors


def validate_document(doc: Document, where: str = "", require_label: bool = True) -> list[Problem]:
    """Every problem of one parsed document against FORMATS.md and the guide's label ids.

    The one definition of a valid document: ``validate``, training, evaluation
    and Label Studio conversion all ask it. ``where`` names the file and line.
    """
    problems = []
    previous_end = 0
    for i, passage in enumerate(doc.passages):
        name = f"passage {i}"
        errors = _check_passage(passage, name, len(doc.text), require_label)
        problems += [Problem(ERROR, where, doc.doc_id, message) for message in errors]
        if errors:
            continue
        if passage.start < previous_end:
            problems.append(Problem(
                ERROR, where, doc.doc_id,
                f"{name}: starts at {passage.start}, before the previous passage ends "
                f"({previous_end}); passages must be sorted and not overlap"))
        previous_end = max(previous_end, passage.end)
        if not doc.text[passage.start:passage.end].strip():
            problems.append(Problem(WARNING, where, doc.doc_id, f"{name}: covers only whitespace"))
        if passage.label == "attributed_report" and not passage.sources:
            problems.append(Problem(WARNING, where, doc.doc_id,
                                    f"{name}: attributed_report without a source mention"))
    return problems


def validate_record(obj: Any, where: str, require_label: bool = True) -> list[Problem]:
    """Every problem of one parsed JSONL value: its shape (as a Document), then :func:`validate_document`."""
    doc_id = obj.get("doc_id") if isinstance(obj, Mapping) else None
    shown_id = doc_id if isinstance(doc_id, str) and doc_id else "?"
    try:
        doc = Document.from_dict(obj)
    except FormatError as exc:
        return [Problem(ERROR, where, shown_id, str(exc))]
    return validate_document(doc, where, require_label)


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
