"""Dev-set scores used while training, computed by the evaluation stage's own metrics."""

from __future__ import annotations

from typing import Sequence

from sourcemark.documents import Document
from sourcemark.model.annotator import Annotator


def dev_scores(annotator: Annotator, dev_docs: Sequence[Document]) -> dict[str, float]:
    """Role macro-F1, accuracy and source-mention F1 on gold passage boundaries."""
    from sourcemark.eval.metrics import evaluate

    predictions = list(annotator.annotate(dev_docs))
    metrics = evaluate(list(dev_docs), predictions, bootstrap=0)
    return {
        "role_macro_f1": round(float(metrics["roles"]["macro_f1"] or 0.0), 4),
        "role_accuracy": round(float(metrics["roles"]["accuracy"] or 0.0), 4),
        "mention_f1": round(float(metrics["sources"]["f1"] or 0.0), 4),
    }


def dev_scores_by_set(annotator: Annotator, dev_sets: dict[str, Sequence[Document]]) -> dict[str, dict[str, float]]:
    """:func:`dev_scores` on each named dev set (e.g. ``corpus.bundled_dev_sets()``)."""
    return {name: dev_scores(annotator, docs) for name, docs in dev_sets.items()}
