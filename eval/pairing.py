"""Pairing every gold document with its prediction, and refusing inputs that cannot be scored.

A silent mismatch (a missing document, a prediction made on a different
version of the text, a label the guide does not know) would produce numbers
that look fine and mean nothing, so each of these is an error that names the
document and the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from sourcemark.documents import Document
from sourcemark.validation import ERROR, validate_document


class EvalInputError(ValueError):
    """Gold and predictions cannot be scored together; the message names the doc_id and file."""


@dataclass
class PairedDocuments:
    """Gold documents in gold order, each with its prediction.

    ``unused`` lists the doc_ids of predictions no gold document asked for:
    not an error (a predictions file may cover more than the gold set), but
    worth telling the user.
    """

    pairs: list[tuple[Document, Document]]
    unused: list[str] = field(default_factory=list)


def _first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def check_document(doc: Document, source: str, *, require_labels: bool = True) -> None:
    """Raise EvalInputError naming the first problem that stops ``doc`` from being scored.

    The rules are the project's one validator (:func:`validate_document`):
    label ids and source types of the guide, offsets inside the text and
    mentions inside their passage, passages sorted and not overlapping.
    """
    errors = [p for p in validate_document(doc, source, require_labels) if p.level == ERROR]
    if errors:
        raise EvalInputError(f"{source}: document {doc.doc_id!r}: {errors[0].message}")


def _unique_by_id(docs: Sequence[Document], source: str) -> dict[str, Document]:
    by_id: dict[str, Document] = {}
    for doc in docs:
        if doc.doc_id in by_id:
            raise EvalInputError(f"{source}: doc_id {doc.doc_id!r} occurs more than once")
        by_id[doc.doc_id] = doc
    return by_id


def pair_documents(gold: Iterable[Document], pred: Iterable[Document], *,
                   gold_name: str = "gold", pred_name: str = "predictions") -> PairedDocuments:
    """Pair each gold document with the prediction of the same doc_id, else with identical text.

    Raises EvalInputError for: no gold documents at all, a doc_id repeated
    within a file, a gold document with no prediction, a prediction whose text differs from the
    gold text, and any label or source type outside the guide (or offsets
    outside the text) on either side. ``gold_name``/``pred_name`` are the file
    names the messages mention.
    """
    gold_docs, pred_docs = list(gold), list(pred)
    if not gold_docs:
        raise EvalInputError(f"{gold_name}: no gold documents to score against")
    gold_by_id = _unique_by_id(gold_docs, gold_name)
    pred_by_id = _unique_by_id(pred_docs, pred_name)
    pred_by_text: dict[str, list[Document]] = {}
    for doc in pred_docs:
        if doc.doc_id not in gold_by_id:
            pred_by_text.setdefault(doc.text, []).append(doc)

    pairs: list[tuple[Document, Document]] = []
    used: set[str] = set()
    for g in gold_docs:
        check_document(g, gold_name)
        p = pred_by_id.get(g.doc_id)
        if p is not None:
            if p.text != g.text:
                at = _first_difference(g.text, p.text)
                raise EvalInputError(
                    f"{pred_name}: document {g.doc_id!r}: text differs from the gold text in {gold_name} "
                    f"(gold {len(g.text)} characters, prediction {len(p.text)}, first difference at "
                    f"character {at}); predictions must be made on the exact gold text")
        else:
            candidates = [d for d in pred_by_text.get(g.text, []) if d.doc_id not in used]
            if not candidates:
                raise EvalInputError(
                    f"{pred_name}: no prediction for gold document {g.doc_id!r} of {gold_name} "
                    f"(no prediction has that doc_id or the same text)")
            p = candidates[0]
        check_document(p, pred_name)
        used.add(p.doc_id)
        pairs.append((g, p))
    unused = [d.doc_id for d in pred_docs if d.doc_id not in used]
    return PairedDocuments(pairs, unused)
