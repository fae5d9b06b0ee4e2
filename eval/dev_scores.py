"""Dev-set scores on gold passage boundaries: what training selects epochs by and benchmarks report.

Any object with an ``annotate(documents)`` method is scored, so the evaluation
stage needs no import of the model stage.
"""

from __future__ import annotations

from typing import Iterable, Iterator, Protocol, Sequence

from sourcemark.documents import Document
from sourcemark.eval.metrics import evaluate


class Labeller(Protocol):
    """What is scored: labels the passages of documents (an Annotator does)."""

    def annotate(self, docs: Iterable[Document]) -> Iterator[Document]: ...


def dev_scores(annotator: Labeller, dev_docs: Sequence[Document]) -> dict[str, float]:
    """Role macro-F1 and accuracy, typed and span-only mention F1, type accuracy on matched spans (gold passages)."""
    predictions = list(annotator.annotate(dev_docs))
    metrics = evaluate(list(dev_docs), predictions, bootstrap=0)
    return {
        "role_macro_f1": round(float(metrics["roles"]["macro_f1"] or 0.0), 4),
        "role_accuracy": round(float(metrics["roles"]["accuracy"] or 0.0), 4),
        "mention_f1": round(float(metrics["sources"]["f1"] or 0.0), 4),
        "mention_span_f1": round(float(metrics["mention_spans"]["f1"] or 0.0), 4),
        "type_accuracy": round(float(metrics["mention_spans"]["type_accuracy"] or 0.0), 4),
    }


def dev_scores_by_set(annotator: Labeller, dev_sets: dict[str, Sequence[Document]]) -> dict[str, dict[str, float]]:
    """:func:`dev_scores` on each named dev set (e.g. ``bundled.bundled_dev_sets()``)."""
    return {name: dev_scores(annotator, docs) for name, docs in dev_sets.items()}
