"""95% confidence intervals by bootstrap over documents.

Passages of one article are not independent (one author, one topic, one
segmentation), so resampling passages would give intervals that are too
narrow. The unit is the document: each replicate draws as many documents as
there are, with replacement, pools their passages and recomputes the metric.

A replicate is described by how many times each document was drawn (a
count vector), and every metric of :mod:`sourcemark.eval.metrics` is a
function of count-weighted sums of per-document tallies, which is exactly
"recompute from the pooled passages of the sample" without copying passages.
"""

from __future__ import annotations

import math
from typing import Callable, Mapping

import numpy as np

LEVEL = 0.95
# Enough resamples for stable percentile intervals, few enough to keep an evaluation quick.
DEFAULT_REPLICATES = 1000


def resample_counts(n_docs: int, n_replicates: int, seed: int = 0) -> np.ndarray:
    """``(n_replicates, n_docs)`` counts of how often each document is drawn in each replicate.

    Deterministic for a seed (numpy's PCG64 generator), and the same for
    every system scored on the same gold, so compared systems see the same
    replicates.
    """
    rng = np.random.default_rng(seed)
    if n_docs == 0 or n_replicates <= 0:
        return np.zeros((max(n_replicates, 0), n_docs), dtype=np.int64)
    draws = rng.integers(0, n_docs, size=(n_replicates, n_docs))
    counts = np.zeros((n_replicates, n_docs), dtype=np.int64)
    for row, drawn in zip(counts, draws):
        np.add.at(row, drawn, 1)
    return counts


def percentile_interval(values: list[float], level: float = LEVEL) -> list[float] | None:
    """The central ``level`` percentile interval of ``values`` ([low, high]), or None if empty."""
    if not values:
        return None
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(np.asarray(values, dtype=float), [tail, 100.0 - tail])
    return [float(low), float(high)]


def bootstrap_ci(
    statistic: Callable[[np.ndarray], Mapping[str, float | None]],
    n_docs: int,
    n_replicates: int = DEFAULT_REPLICATES,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, list[float]]:
    """Percentile intervals for every metric ``statistic`` returns.

    ``statistic`` maps a document-count vector to named metric values. A
    value that is undefined in a replicate (None or NaN: a sample with no
    source mentions has no mention precision) is left out of that metric's
    interval; a metric undefined in every replicate gets no interval.
    """
    samples: dict[str, list[float]] = {}
    for counts in resample_counts(n_docs, n_replicates, seed):
        for name, value in statistic(counts).items():
            bucket = samples.setdefault(name, [])
            if value is not None and not math.isnan(value):
                bucket.append(float(value))
    out: dict[str, list[float]] = {}
    for name, values in samples.items():
        interval = percentile_interval(values, level)
        if interval is not None:
            out[name] = interval
    return out
