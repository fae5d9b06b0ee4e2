"""Lining predicted passages up with gold passages (FORMATS.md, "Scoring predictions against gold").

Predictions may cut the text differently from the annotators, so roles cannot
be compared passage by passage. Two rules bridge the gap:

* the majority-overlap rule gives every gold passage one predicted role: the
  role whose predicted passages cover most of its non-whitespace characters
  (no coverage at all: ``DEFAULT_ROLE``). Whitespace is ignored so that a
  predicted passage that swallows the blank line before a sentence does not
  win it over the passage that holds the words;
* boundary matching measures how well the cuts themselves agree
  (segmentation), independently of the roles.

Both work on character offsets only; they never look at labels of the gold.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from sourcemark.documents import Passage
from sourcemark.labels import DEFAULT_ROLE, ROLES

_ROLE_RANK = {role: i for i, role in enumerate(ROLES)}


def nonspace_prefix(text: str) -> np.ndarray:
    """Cumulative count of non-whitespace characters: ``p[b] - p[a]`` counts them in ``text[a:b]``.

    Computed once per document so that every overlap is two array lookups,
    whatever the number of passages.
    """
    marks = np.fromiter((not ch.isspace() for ch in text), dtype=np.int64, count=len(text))
    prefix = np.zeros(len(text) + 1, dtype=np.int64)
    np.cumsum(marks, out=prefix[1:])
    return prefix


def _count(prefix: np.ndarray, start: int, end: int) -> int:
    """Non-whitespace characters in ``[start, end)``, clipped to the text."""
    last = len(prefix) - 1
    start, end = max(0, min(start, last)), max(0, min(end, last))
    return int(prefix[end] - prefix[start]) if end > start else 0


class _Index:
    """Predicted passages sorted by start, searchable for overlaps with a span.

    A running maximum of the ends makes the search correct even when
    predicted passages overlap one another (a malformed but scoreable file).
    """

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = sorted(passages, key=lambda p: (p.start, p.end))
        self.starts = [p.start for p in self.passages]
        self.max_end: list[int] = []
        running = -1
        for p in self.passages:
            running = max(running, p.end)
            self.max_end.append(running)

    def overlapping(self, start: int, end: int) -> list[Passage]:
        """Passages sharing at least one character with ``[start, end)``, in text order."""
        hits: list[Passage] = []
        i = bisect_left(self.starts, end) - 1
        while i >= 0 and self.max_end[i] > start:
            p = self.passages[i]
            if p.end > start and p.start < end:
                hits.append(p)
            i -= 1
        hits.reverse()
        return hits


@dataclass(frozen=True)
class Alignment:
    """What the majority-overlap rule decided for one gold passage.

    ``covering`` is the predicted passage of the winning role that overlaps
    the gold passage most: its ``probs`` supply the confidence used for
    calibration. It is None when nothing covers the passage.
    """

    gold: Passage
    pred_role: str
    covered: int
    total: int
    covering: Passage | None

    @property
    def confidence(self) -> float | None:
        """The covering passage's probability for the predicted role, if it has ``probs``."""
        if self.covering is None or not self.covering.probs:
            return None
        value = self.covering.probs.get(self.pred_role)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _align_one(gold: Passage, index: _Index, prefix: np.ndarray) -> Alignment:
    total = _count(prefix, gold.start, gold.end)
    by_role: dict[str, int] = {}
    best_passage: dict[str, tuple[int, Passage]] = {}
    for p in index.overlapping(gold.start, gold.end):
        if p.label is None:
            continue
        size = _count(prefix, max(gold.start, p.start), min(gold.end, p.end))
        if size == 0:
            continue
        by_role[p.label] = by_role.get(p.label, 0) + size
        if p.label not in best_passage or size > best_passage[p.label][0]:
            best_passage[p.label] = (size, p)
    if not by_role:
        return Alignment(gold, DEFAULT_ROLE, 0, total, None)
    # Most characters wins; a tie goes to the role listed first in ROLES, so
    # the result never depends on the order passages appear in a file.
    role = min(by_role, key=lambda r: (-by_role[r], _ROLE_RANK.get(r, len(ROLES)), r))
    return Alignment(gold, role, by_role[role], total, best_passage[role][1])


def align_roles(gold: Sequence[Passage], pred: Sequence[Passage], text: str,
                prefix: np.ndarray | None = None) -> list[Alignment]:
    """Apply the majority-overlap rule to every gold passage of one document, in gold order.

    Each gold passage takes the predicted role covering most of its
    non-whitespace characters, summed over all predicted passages of that
    role; with no covering (or only whitespace covered) it takes
    ``DEFAULT_ROLE``. Ties go to the role that comes first in ``ROLES``.
    """
    prefix = nonspace_prefix(text) if prefix is None else prefix
    index = _Index(pred)
    return [_align_one(g, index, prefix) for g in gold]


def majority_role(gold: Passage, pred: Sequence[Passage], text: str) -> str:
    """The predicted role of a single gold passage under the majority-overlap rule."""
    return align_roles([gold], pred, text)[0].pred_role


def strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``[start, end)`` without leading and trailing whitespace; None if nothing else is left.

    Boundaries are compared after stripping because whether a passage
    includes the space or newline next to it is a convention of the
    segmenter, not a disagreement about where the sentence is.
    """
    start, end = max(0, start), min(len(text), end)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _max_matching(candidates: list[list[int]], n_right: int) -> int:
    """Size of a maximum one-to-one matching of left items to right-hand items.

    ``candidates[i]`` lists the right-hand items left item ``i`` may take.
    Greedy matching can pair a predicted passage with the wrong one of two
    tiny neighbours and lose a match; a maximum matching cannot.
    """
    rows = [i for i, near in enumerate(candidates) for _ in near]
    cols = [j for near in candidates for j in near]
    if not rows:
        return 0
    # Imported here: scipy would slow every ``sourcemark`` start-up, which registers this stage.
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    biadjacency = csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)),
                             shape=(len(candidates), n_right))
    partner = maximum_bipartite_matching(biadjacency, perm_type="column")
    return int((partner >= 0).sum())


def boundary_f1(gold: list[Passage], pred: list[Passage], text: str, tolerance: int = 2) -> dict:
    """Agreement of passage boundaries, independent of labels.

    A predicted passage matches a gold one when, after stripping whitespace
    from both spans, both its start and its end lie within ``tolerance``
    characters of the gold ones; each passage matches at most one other
    (a maximum one-to-one matching). Passages made only of whitespace have no
    boundaries to agree on and are left out of both counts.

    Returns ``precision``, ``recall``, ``f1`` (always floats, so benchmarks
    can average them: a side with no passages scores 0 unless both sides are
    empty, which is perfect agreement), ``matched``, ``n_gold`` and ``n_pred``.
    """
    gold_spans = sorted(s for s in (strip_span(text, p.start, p.end) for p in gold) if s)
    pred_spans = sorted(s for s in (strip_span(text, p.start, p.end) for p in pred) if s)
    pred_starts = [s for s, _ in pred_spans]
    candidates: list[list[int]] = []
    for gs, ge in gold_spans:
        near: list[int] = []
        j = bisect_left(pred_starts, gs - tolerance)
        while j < len(pred_spans) and pred_spans[j][0] <= gs + tolerance:
            if abs(pred_spans[j][1] - ge) <= tolerance:
                near.append(j)
            j += 1
        candidates.append(near)
    matched = _max_matching(candidates, len(pred_spans))
    n_gold, n_pred = len(gold_spans), len(pred_spans)
    if n_gold == 0 and n_pred == 0:
        precision = recall = f1 = 1.0
    else:
        precision = matched / n_pred if n_pred else 0.0
        recall = matched / n_gold if n_gold else 0.0
        f1 = 2 * matched / (n_gold + n_pred)
    return {"precision": precision, "recall": recall, "f1": f1,
            "matched": matched, "n_gold": n_gold, "n_pred": n_pred}
