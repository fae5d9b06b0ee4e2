"""Documents <-> Label Studio tasks, predictions and annotation results.

Push direction: a predicted Document becomes a task (``data.text``,
``data.doc_id``, ``data.uncertainty``; the document's ``meta`` kept in the
task's ``meta``) and a prediction whose result has one ``labels`` region per
passage (``from_name="role"``) and per source mention (``from_name="source"``),
each with its ``score``.

Pull direction: an annotation's (or a prediction's) result becomes an
annotated Document per FORMATS.md: role regions are passages, source regions
are mentions of the passage that contains them; spans are trimmed of
surrounding whitespace, passages sorted, and the result validated. Anything
that cannot be turned into a valid document raises ConversionError with the
reason, so one bad annotation is reported instead of poisoning training data.

Offsets: Label Studio measures text offsets in JavaScript string units
(UTF-16 code units); FORMATS.md uses Python ``str`` indices (code points).
They differ after any character outside the Basic Multilingual Plane (emoji,
some scripts), so every offset crossing the boundary goes through OffsetMap.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, Iterable, Mapping

from sourcemark.annotation.config import (
    DOC_ID_KEY, ROLE_CONTROL, SOURCE_CONTROL, TEXT_KEY, TEXT_NAME, UNCERTAINTY_KEY, source_label, source_type_of,
)
from sourcemark.documents import Document, Passage, SourceMention
from sourcemark.labels import ROLES
from sourcemark.validation import ERROR, validate_document

#: Key of the task ``meta`` under which sourcemark keeps its own fields.
META_KEY = "sourcemark"
#: Document meta fields not worth sending to Label Studio (derived, bulky).
DROPPED_META = ("summary",)


class ConversionError(ValueError):
    """An annotation result that does not make a valid annotated document."""


class OffsetMap:
    """Python code-point offsets <-> JavaScript UTF-16 offsets for one text."""

    def __init__(self, text: str) -> None:
        astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]
        self._astral = astral
        #: UTF-16 index at which each astral character starts.
        self._js_starts = [a + k for k, a in enumerate(astral)]

    def to_js(self, index: int) -> int:
        """UTF-16 offset of code-point offset ``index``."""
        if not self._astral:
            return index
        return index + bisect_right(self._astral, index - 1)

    def from_js(self, offset: int) -> int:
        """Code-point offset of UTF-16 offset ``offset`` (inside a surrogate pair: its start)."""
        if not self._astral:
            return offset
        before = bisect_right(self._js_starts, offset - 1)
        if before and self._js_starts[before - 1] + 1 == offset:
            return self._astral[before - 1]
        return offset - before


# ----------------------------------------------------------------------------- push direction


def document_uncertainty(doc: Document) -> float:
    """Mean over passages of 1 - (top role probability); 0 for a document without scores.

    High means the model was unsure about many passages: the documents an
    annotator's time improves most.
    """
    tops = []
    for p in doc.passages:
        if p.probs:
            tops.append(max(p.probs.values()))
        elif p.score is not None:
            tops.append(float(p.score))
    if not tops:
        return 0.0
    return round(sum(1.0 - t for t in tops) / len(tops), 4)


def region(control: str, doc: Document, offsets: OffsetMap, start: int, end: int, label: str,
           score: float | None, region_id: str) -> dict[str, Any]:
    """One Label Studio ``labels`` result item over the article text."""
    item: dict[str, Any] = {
        "id": region_id,
        "from_name": control,
        "to_name": TEXT_NAME,
        "type": "labels",
        "value": {"start": offsets.to_js(start), "end": offsets.to_js(end), "text": doc.text[start:end],
                  "labels": [label]},
    }
    if score is not None:
        item["score"] = round(float(score), 4)
    return item


def document_to_result(doc: Document) -> list[dict[str, Any]]:
    """Role and source regions for every labelled passage of ``doc``."""
    offsets = OffsetMap(doc.text)
    result = []
    for i, p in enumerate(doc.passages):
        if p.label is None:
            continue
        result.append(region(ROLE_CONTROL, doc, offsets, p.start, p.end, p.label, p.score, f"p{i}"))
        for j, s in enumerate(p.sources):
            result.append(region(SOURCE_CONTROL, doc, offsets, s.start, s.end, source_label(s.type), s.score,
                                 f"p{i}s{j}"))
    return result


def document_to_prediction(doc: Document, model_version: str | None = None) -> dict[str, Any]:
    """A Label Studio prediction: result, ``model_version`` and ``score``.

    The prediction score is the document's confidence (1 - uncertainty):
    Label Studio's "Uncertainty sampling" and an ascending sort on the Data
    Manager's "Prediction score" column then put the most uncertain first.
    """
    version = model_version or doc.model_version
    if not version:
        raise ConversionError(f"{doc.doc_id}: a prediction needs a model_version")
    return {
        "model_version": version,
        "score": round(1.0 - document_uncertainty(doc), 4),
        "result": document_to_result(doc),
    }


def document_to_task(doc: Document, prediction: bool = True) -> dict[str, Any]:
    """A Label Studio task for import, with the document's prediction unless ``prediction`` is False.

    ``data.uncertainty`` is the task-level score (mean 1 - max prob): sort the
    Data Manager by it, descending, to see the most uncertain documents first.
    """
    meta = {k: v for k, v in doc.meta.items() if k not in DROPPED_META}
    task: dict[str, Any] = {
        "data": {TEXT_KEY: doc.text, DOC_ID_KEY: doc.doc_id},
        "meta": {META_KEY: {"doc_meta": meta}},
    }
    if prediction and doc.model_version:
        task["data"][UNCERTAINTY_KEY] = document_uncertainty(doc)
        task["predictions"] = [document_to_prediction(doc)]
    return task


# ----------------------------------------------------------------------------- pull direction


def task_doc_id(task: Mapping[str, Any]) -> str:
    """The document id of a task: ``data.doc_id``, or ``ls-task-<id>`` for tasks made in Label Studio."""
    data = task.get("data") or {}
    doc_id = data.get(DOC_ID_KEY)
    if isinstance(doc_id, str) and doc_id:
        return doc_id
    return f"ls-task-{task.get('id')}"


def _anchor(text: str, start: int, end: int, quoted: Any, where: str) -> tuple[int, int, str | None]:
    """Check a region's offsets against the text it quotes; re-anchor on the nearest copy if they drifted."""
    if not 0 <= start < end <= len(text):
        raise ConversionError(f"{where}: offsets [{start}, {end}) outside the text (length {len(text)})")
    if not isinstance(quoted, str) or text[start:end] == quoted or not quoted:
        return start, end, None
    hits = []
    pos = text.find(quoted)
    while pos >= 0:
        hits.append(pos)
        pos = text.find(quoted, pos + 1)
    if not hits:
        raise ConversionError(f"{where}: region text {quoted[:40]!r} is not in the document")
    best = min(hits, key=lambda h: abs(h - start))
    return best, best + len(quoted), f"{where}: offsets moved from {start} to {best} to match the region text"


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _regions(result: Iterable[Mapping[str, Any]], text: str, notes: list[str]) -> tuple[list, list]:
    """(start, end, label, score) tuples of role and source regions, in code points, trimmed."""
    offsets = OffsetMap(text)
    roles: list[tuple[int, int, str, float | None]] = []
    sources: list[tuple[int, int, str, float | None]] = []
    for n, item in enumerate(result):
        if not isinstance(item, Mapping) or item.get("type") != "labels":
            continue  # relations, text areas and other controls carry nothing we store
        control = item.get("from_name")
        if control not in (ROLE_CONTROL, SOURCE_CONTROL):
            continue
        value = item.get("value") or {}
        labels = value.get("labels") or []
        where = f"{control} region {item.get('id', n)}"
        if len(labels) != 1:
            raise ConversionError(f"{where}: expected exactly one label, got {labels}")
        # a source label is the config's name for the type (``other_source``); files keep the guide's id
        label = labels[0] if control == ROLE_CONTROL else source_type_of(labels[0])
        if label is None or (control == ROLE_CONTROL and label not in ROLES):
            raise ConversionError(f"{where}: unknown {control} label {labels[0]!r}")
        try:
            start, end = offsets.from_js(int(value["start"])), offsets.from_js(int(value["end"]))
        except (KeyError, TypeError, ValueError):
            raise ConversionError(f"{where}: missing or non-integer start/end") from None
        start, end, note = _anchor(text, start, end, value.get("text"), where)
        if note:
            notes.append(note)
        start, end = _trim(text, start, end)
        if start >= end:
            notes.append(f"{where}: covers only whitespace, dropped")
            continue
        score = item.get("score")
        (roles if control == ROLE_CONTROL else sources).append((start, end, label, score))
    return roles, sources


def result_to_document(task: Mapping[str, Any], result: Iterable[Mapping[str, Any]],
                       keep_scores: bool = False) -> tuple[Document, list[str]]:
    """An annotated Document from a task and one annotation's (or prediction's) result.

    Returns the document and notes (harmless fixes worth reporting). Raises
    ConversionError when the regions do not make a valid document:
    overlapping passages, a mention outside every passage, unknown labels.
    """
    data = task.get("data") or {}
    text = data.get(TEXT_KEY)
    doc_id = task_doc_id(task)
    if not isinstance(text, str):
        raise ConversionError(f"{doc_id}: task has no '{TEXT_KEY}' in its data")
    notes: list[str] = []
    roles, sources = _regions(result, text, notes)
    if not roles:
        raise ConversionError(f"{doc_id}: no passage (role) regions")
    roles.sort(key=lambda r: (r[0], r[1]))
    passages: list[Passage] = []
    for start, end, label, score in roles:
        if passages and start < passages[-1].end:
            prev = passages[-1]
            same = (start, end) == (prev.start, prev.end)
            raise ConversionError(
                f"{doc_id}: passage [{start}, {end}) {label} "
                + ("has the same span as" if same else "overlaps")
                + f" [{prev.start}, {prev.end}) {prev.label} ({text[start:end][:40]!r})"
            )
        passages.append(Passage(start, end, label, score=score if keep_scores else None))
    for start, end, kind, score in sorted(sources, key=lambda s: (s[0], s[1])):
        home = next((p for p in passages if p.start <= start and end <= p.end), None)
        if home is None:
            overlapping = [p for p in passages if start < p.end and p.start < end]
            if len(overlapping) != 1:
                raise ConversionError(
                    f"{doc_id}: source mention [{start}, {end}) {text[start:end][:40]!r} ({kind}) "
                    "lies in no passage"
                )
            home = overlapping[0]
            notes.append(f"{doc_id}: source mention [{start}, {end}) clipped to its passage "
                         f"[{home.start}, {home.end})")
            start, end = max(start, home.start), min(end, home.end)
        home.sources.append(SourceMention(start, end, kind, score=score if keep_scores else None))
    meta = dict(((task.get("meta") or {}).get(META_KEY) or {}).get("doc_meta") or {})
    doc = Document(doc_id, text, meta, passages)
    errors = [p.message for p in validate_document(doc, doc_id) if p.level == ERROR]
    if errors:
        raise ConversionError(f"{doc_id}: {errors[0]}")
    return doc, notes
