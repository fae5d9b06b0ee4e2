"""Annotated documents to training rows: one encoder window each, with its document's sample weight.

Each row is a window (see :mod:`sourcemark.model.encoding`) as a dict, with a
``weight``, so corrected documents pulled from Label Studio can count more
than corpus documents.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence

from sourcemark.documents import Document
from sourcemark.labels import ROLES
from sourcemark.model.encoding import IGNORE, TAGS, build_windows
from sourcemark.segmentation import mark_sections


def training_windows(
    docs: Sequence[Document], tokenizer: Any, max_length: int, context: int,
    weights: Sequence[float] | None, isolate: bool, context_segment: bool = False,
) -> list[dict[str, Any]]:
    """One row per window (``Window.to_dict``); ``weight`` is the weight of the window's document."""
    rows: list[dict[str, Any]] = []
    for i, doc in enumerate(map(mark_sections, docs)):
        for window in build_windows(doc, i, tokenizer, max_length, context, isolate, context_segment):
            row = window.to_dict()
            row["weight"] = float(weights[i]) if weights is not None else 1.0
            rows.append(row)
    return rows


def has_mention(row: dict[str, Any]) -> bool:
    """Whether a training window marks any source mention (a B or I tag)."""
    return any(t not in (0, IGNORE) for t in row["tags"])


def class_weights(counts: Counter, size: int, power: float = 0.5, cap: float = 10.0) -> list[float]:
    """Inverse-frequency weights (softened by ``power``), mean 1 over seen classes, capped."""
    total = sum(counts.values()) or 1
    raw = [((total / counts[i]) ** power) if counts.get(i) else 0.0 for i in range(size)]
    seen = [w for w in raw if w > 0]
    mean = sum(seen) / len(seen) if seen else 1.0
    return [min(w / mean, cap) if w > 0 else 1.0 for w in raw]


def label_weights(rows: Iterable[dict[str, Any]]) -> tuple[list[float], list[float]]:
    """Class weights for roles and for BIO tags, from training rows."""
    roles: Counter = Counter()
    tags: Counter = Counter()
    for row in rows:
        roles.update(r for r in row["roles"] if r != IGNORE)
        tags.update(t for t in row["tags"] if t != IGNORE)
    return class_weights(roles, len(ROLES)), class_weights(tags, len(TAGS), power=0.15)
