"""Every score of the evaluation stage, from gold and predicted documents to one JSON-ready dict.

The rules are those at the end of FORMATS.md:

* roles are scored per gold passage, each taking its predicted role by the
  majority-overlap rule (:mod:`sourcemark.eval.alignment`); the arithmetic is
  sklearn's, with ``labels=ROLES`` so every role of the guide is reported and
  a role that gold has but the system never predicts (or predicts but gold
  never has) counts with F1 0 in the macro average;
* a predicted source mention matches a gold one when the spans overlap and
  the types are equal, one-to-one, greedily by overlap size;
* per-passage source-type sets, segmentation boundaries and calibration are
  extra views: which kinds of source a passage cites, whether the cuts fall
  where the annotators put them, and whether confidences can be trusted.

Undefined ratios are None, never a made-up 0 or 1: precision of a role that
is never predicted, or anything about a role absent from both gold and
predictions. A role absent from both is therefore left out of the macro-F1
(sklearn ``zero_division=nan``): otherwise a perfect system would score 0.8
on any gold set without reader comments, and bootstrap samples that happen to
miss a rare role would drag the interval down for no error of the system.

Each document is reduced to tallies (a confusion matrix, mention counts per
type, ...). Pooled metrics are functions of count-weighted sums of those
tallies, which is what lets :mod:`sourcemark.eval.bootstrap` recompute them
for every resample of documents cheaply and exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from sourcemark.documents import Document, SourceMention
from sourcemark.eval.alignment import Alignment, align_roles, boundary_f1, nonspace_prefix
from sourcemark.eval.bootstrap import DEFAULT_REPLICATES, LEVEL, bootstrap_ci
from sourcemark.eval.pairing import pair_documents
from sourcemark.labels import ROLES, SOURCE_TYPES

N_BINS = 10
_ROLE_INDEX = {r: i for i, r in enumerate(ROLES)}
_TYPE_INDEX = {t: i for i, t in enumerate(SOURCE_TYPES)}


# --------------------------------------------------------------------------- small helpers

def _clean(value: Any) -> float | None:
    """A float for JSON, with NaN (undefined) turned into None."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def prf(tp: float, n_pred: float, n_gold: float) -> dict[str, float | None]:
    """Precision, recall and F1 from counts; a ratio with a zero denominator is None.

    F1 is ``2 tp / (n_pred + n_gold)``, defined whenever either side has
    anything (it is 0 when one side is empty and the other is not).
    """
    return {
        "precision": tp / n_pred if n_pred else None,
        "recall": tp / n_gold if n_gold else None,
        "f1": 2 * tp / (n_pred + n_gold) if n_pred + n_gold else None,
    }


# --------------------------------------------------------------------------- roles

def role_scores(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    """Per-role P/R/F1/support, macro-F1, accuracy and confusion matrix, by sklearn.metrics.

    The confusion matrix has gold roles as rows and predicted roles as
    columns, both in ``ROLES`` order.
    """
    per_role: dict[str, dict[str, Any]] = {}
    if not y_true:
        for role in ROLES:
            per_role[role] = {"precision": None, "recall": None, "f1": None, "support": 0, "predicted": 0}
        return {"labels": list(ROLES), "per_role": per_role, "macro_f1": None, "accuracy": None,
                "confusion_matrix": [[0] * len(ROLES) for _ in ROLES], "n": 0}
    # Imported here: sklearn would slow every ``sourcemark`` start-up, which registers this stage.
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=list(ROLES), zero_division=np.nan)
    matrix = confusion_matrix(y_true, y_pred, labels=list(ROLES))
    predicted = matrix.sum(axis=0)
    for i, role in enumerate(ROLES):
        per_role[role] = {"precision": _clean(precision[i]), "recall": _clean(recall[i]),
                          "f1": _clean(f1[i]), "support": int(support[i]), "predicted": int(predicted[i])}
    macro = f1_score(y_true, y_pred, labels=list(ROLES), average="macro", zero_division=np.nan)
    return {
        "labels": list(ROLES),
        "per_role": per_role,
        "macro_f1": _clean(macro),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "confusion_matrix": matrix.astype(int).tolist(),
        "n": len(y_true),
    }


def roles_from_confusion(matrix: np.ndarray) -> dict[str, Any]:
    """Macro-F1, accuracy and per-role F1 from a (pooled) confusion matrix.

    The same arithmetic as :func:`role_scores` (sklearn with
    ``zero_division=nan``), used where sklearn would be called over and
    over: bootstrap replicates and per-document rows. A test holds the two
    equal.
    """
    matrix = np.asarray(matrix, dtype=float)
    tp = np.diag(matrix)
    n_pred, n_gold = matrix.sum(axis=0), matrix.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(n_pred + n_gold > 0, 2 * tp / (n_pred + n_gold), np.nan)
    total = matrix.sum()
    defined = f1[~np.isnan(f1)]
    return {
        "macro_f1": float(defined.mean()) if defined.size else None,
        "accuracy": float(tp.sum() / total) if total else None,
        "f1": [_clean(v) for v in f1],
    }


# --------------------------------------------------------------------------- source mentions

def _mentions(doc: Document) -> list[SourceMention]:
    return [m for p in doc.passages for m in p.sources]


def match_mentions(gold: Sequence[SourceMention], pred: Sequence[SourceMention],
                   typed: bool = True) -> list[tuple[int, int]]:
    """One-to-one matches ``(gold index, pred index)``: spans overlap and (if ``typed``) types are equal.

    Greedy by overlap size (largest first; ties by position), so a
    duplicated predicted mention matches at most once and the copy counts as
    a false positive. ``typed=False`` matches spans alone, to tell finding a
    source apart from typing it.
    """
    candidates: list[tuple[int, int, int]] = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            if typed and g.type != p.type:
                continue
            overlap = min(g.end, p.end) - max(g.start, p.start)
            if overlap > 0:
                candidates.append((-overlap, gi, pi))
    candidates.sort()
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    matches: list[tuple[int, int]] = []
    for _, gi, pi in candidates:
        if gi in used_gold or pi in used_pred:
            continue
        used_gold.add(gi)
        used_pred.add(pi)
        matches.append((gi, pi))
    return matches


def mention_tally(gold: Document, pred: Document) -> np.ndarray:
    """``(3, len(SOURCE_TYPES))`` counts per type: matched, predicted, gold."""
    g, p = _mentions(gold), _mentions(pred)
    out = np.zeros((3, len(SOURCE_TYPES)), dtype=np.int64)
    for gi, _ in match_mentions(g, p):
        out[0, _TYPE_INDEX[g[gi].type]] += 1
    for m in p:
        out[1, _TYPE_INDEX[m.type]] += 1
    for m in g:
        out[2, _TYPE_INDEX[m.type]] += 1
    return out


def span_tally(gold: Document, pred: Document) -> np.ndarray:
    """``[matched spans, predicted, gold, matched spans with the gold type]``, types ignored in matching."""
    g, p = _mentions(gold), _mentions(pred)
    matches = match_mentions(g, p, typed=False)
    same_type = sum(g[gi].type == p[pi].type for gi, pi in matches)
    return np.array([len(matches), len(p), len(g), same_type], dtype=np.int64)


def spans_section(tally: np.ndarray) -> dict[str, Any]:
    """Span-only mention P/R/F1 and the type accuracy on matched spans, from a pooled ``span_tally``."""
    matched, n_pred, n_gold, same_type = (int(x) for x in tally)
    return {**prf(matched, n_pred, n_gold), "matched": matched, "n_pred": n_pred, "n_gold": n_gold,
            "type_accuracy": same_type / matched if matched else None, "same_type": same_type}


def type_set_tally(gold: Document, pred: Document) -> np.ndarray:
    """Micro-averaged per-passage source-type sets: ``[|G∩P| summed, |P| summed, |G| summed]``.

    For each gold passage, G is the set of types of its gold mentions and P
    the set of types of the predicted mentions placed in it. A predicted
    mention goes to the gold passage it overlaps most (ties: the earlier
    one); mentions outside every gold passage form one extra set with no gold
    types, so they still count against precision. Micro-averaging keeps the
    many passages without sources from inflating the score.
    """
    passages = gold.passages
    gold_sets = [{m.type for m in p.sources} for p in passages]
    pred_sets: list[set[str]] = [set() for _ in passages]
    outside: set[str] = set()
    for m in _mentions(pred):
        best, best_overlap = -1, 0
        for i, p in enumerate(passages):
            overlap = min(p.end, m.end) - max(p.start, m.start)
            if overlap > best_overlap:
                best, best_overlap = i, overlap
        (pred_sets[best] if best >= 0 else outside).add(m.type)
    tp = sum(len(g & p) for g, p in zip(gold_sets, pred_sets))
    n_pred = sum(len(p) for p in pred_sets) + len(outside)
    n_gold = sum(len(g) for g in gold_sets)
    return np.array([tp, n_pred, n_gold], dtype=np.int64)


def sources_section(tally: np.ndarray) -> dict[str, Any]:
    """Overall and per-type mention P/R/F1 from a pooled ``mention_tally``.

    Per-type rows are given for the types that occur in gold or predictions.
    """
    tp, n_pred, n_gold = (int(x) for x in tally.sum(axis=1))
    out: dict[str, Any] = {**prf(tp, n_pred, n_gold), "matched": tp, "n_pred": n_pred, "n_gold": n_gold}
    per_type: dict[str, Any] = {}
    for i, kind in enumerate(SOURCE_TYPES):
        t, p, g = int(tally[0, i]), int(tally[1, i]), int(tally[2, i])
        if p or g:
            per_type[kind] = {**prf(t, p, g), "matched": t, "n_pred": p, "n_gold": g}
    out["per_type"] = per_type
    return out


# --------------------------------------------------------------------------- calibration

def calibration_tally(alignments: Iterable[Alignment]) -> np.ndarray:
    """``(3, N_BINS)``: per equal-width confidence bin, count, summed confidence, summed correctness.

    Only gold passages whose covering predicted passage has ``probs`` are
    counted; the confidence is that passage's probability for the role the
    gold passage was given. Bin i holds confidences in ``[i/10, (i+1)/10)``,
    the last bin also 1.0.
    """
    out = np.zeros((3, N_BINS), dtype=float)
    for a in alignments:
        conf = a.confidence
        if conf is None:
            continue
        conf = min(max(conf, 0.0), 1.0)
        b = min(int(math.floor(conf * N_BINS)), N_BINS - 1)
        out[0, b] += 1
        out[1, b] += conf
        out[2, b] += 1.0 if a.pred_role == a.gold.label else 0.0
    return out


def ece_from_tally(tally: np.ndarray) -> float | None:
    """Expected calibration error: ``sum_b n_b/N * |accuracy_b - confidence_b|`` (None without probs)."""
    n = tally[0].sum()
    if not n:
        return None
    return float(np.abs(tally[2] - tally[1]).sum() / n)


def calibration_section(tally: np.ndarray, n_passages: int) -> dict[str, Any] | None:
    """ECE and reliability-diagram data, or None when no prediction carries ``probs``."""
    ece = ece_from_tally(tally)
    if ece is None:
        return None
    bins = []
    for b in range(N_BINS):
        count = int(tally[0, b])
        bins.append({
            "low": b / N_BINS, "high": (b + 1) / N_BINS, "count": count,
            "confidence": float(tally[1, b] / count) if count else None,
            "accuracy": float(tally[2, b] / count) if count else None,
        })
    n = int(tally[0].sum())
    return {"ece": ece, "n": n, "n_without_probs": n_passages - n, "n_bins": N_BINS, "bins": bins}


# --------------------------------------------------------------------------- per document

@dataclass
class DocumentTally:
    """Everything the pooled metrics need from one gold/predicted document pair."""

    doc_id: str
    alignments: list[Alignment]
    confusion: np.ndarray
    mentions: np.ndarray
    spans: np.ndarray
    type_sets: np.ndarray
    boundaries: np.ndarray
    calibration: np.ndarray
    text: str = field(repr=False, default="")

    @property
    def y_true(self) -> list[str]:
        return [str(a.gold.label) for a in self.alignments]

    @property
    def y_pred(self) -> list[str]:
        return [a.pred_role for a in self.alignments]


def tally_document(gold: Document, pred: Document, tolerance: int = 2) -> DocumentTally:
    """Align one pair and reduce it to the tallies pooled metrics are made of."""
    prefix = nonspace_prefix(gold.text)
    alignments = align_roles(gold.passages, pred.passages, gold.text, prefix)
    confusion = np.zeros((len(ROLES), len(ROLES)), dtype=np.int64)
    for a in alignments:
        confusion[_ROLE_INDEX[str(a.gold.label)], _ROLE_INDEX[a.pred_role]] += 1
    seg = boundary_f1(gold.passages, pred.passages, gold.text, tolerance)
    return DocumentTally(
        doc_id=gold.doc_id,
        alignments=alignments,
        confusion=confusion,
        mentions=mention_tally(gold, pred),
        spans=span_tally(gold, pred),
        type_sets=type_set_tally(gold, pred),
        boundaries=np.array([seg["matched"], seg["n_pred"], seg["n_gold"]], dtype=np.int64),
        calibration=calibration_tally(alignments),
        text=gold.text,
    )


def document_row(t: DocumentTally) -> dict[str, Any]:
    """One line of the per-document breakdown."""
    roles = roles_from_confusion(t.confusion)
    mtp, mpred, mgold = (int(x) for x in t.mentions.sum(axis=1))
    mentions = prf(mtp, mpred, mgold)
    seg = prf(*(int(x) for x in t.boundaries))
    n = len(t.alignments)
    errors = sum(1 for a in t.alignments if a.pred_role != a.gold.label)
    return {
        "doc_id": t.doc_id, "passages": n, "errors": errors,
        "accuracy": roles["accuracy"], "macro_f1": roles["macro_f1"],
        "source_precision": mentions["precision"], "source_recall": mentions["recall"],
        "source_f1": mentions["f1"], "source_gold": mgold, "source_pred": mpred,
        "boundary_f1": seg["f1"], "ece": ece_from_tally(t.calibration),
    }


def worst_passages(tallies: Sequence[DocumentTally], limit: int = 50) -> list[dict[str, Any]]:
    """Misclassified gold passages, most confidently wrong first (those without a score last)."""
    rows = []
    for t in tallies:
        for a in t.alignments:
            if a.pred_role == a.gold.label:
                continue
            conf = a.confidence
            rows.append({
                "doc_id": t.doc_id, "start": a.gold.start, "end": a.gold.end,
                "gold": a.gold.label, "pred": a.pred_role, "confidence": conf,
                "covered": a.covered / a.total if a.total else 0.0,
                "text": t.text[a.gold.start:a.gold.end],
            })
    rows.sort(key=lambda r: -(r["confidence"] if r["confidence"] is not None else -1.0))
    return rows[:limit]


# --------------------------------------------------------------------------- pooling

class PooledTallies:
    """Per-document tallies stacked so that a weight vector pools them in one product."""

    def __init__(self, tallies: Sequence[DocumentTally]) -> None:
        self.n = len(tallies)

        def stack(name: str, shape: tuple[int, ...]) -> np.ndarray:
            if not tallies:
                return np.zeros((0, *shape))
            return np.stack([getattr(t, name) for t in tallies]).astype(float)

        self.confusion = stack("confusion", (len(ROLES), len(ROLES)))
        self.mentions = stack("mentions", (3, len(SOURCE_TYPES)))
        self.spans = stack("spans", (4,))
        self.type_sets = stack("type_sets", (3,))
        self.boundaries = stack("boundaries", (3,))
        self.calibration = stack("calibration", (3, N_BINS))

    def pool(self, name: str, weights: np.ndarray) -> np.ndarray:
        return np.tensordot(np.asarray(weights, dtype=float), getattr(self, name), axes=1)

    def headline(self, weights: np.ndarray) -> dict[str, float | None]:
        """The metrics that get confidence intervals, for documents weighted by ``weights``.

        ``weights[d]`` is how many times document d is in the sample; all
        ones is the evaluated set itself.
        """
        roles = roles_from_confusion(self.pool("confusion", weights))
        out: dict[str, float | None] = {"roles.macro_f1": roles["macro_f1"], "roles.accuracy": roles["accuracy"]}
        for role, value in zip(ROLES, roles["f1"]):
            out[f"roles.per_role.{role}.f1"] = value
        mentions = prf(*self.pool("mentions", weights).sum(axis=1))
        for key in ("precision", "recall", "f1"):
            out[f"sources.{key}"] = mentions[key]
        spans = spans_section(self.pool("spans", weights))
        out["mention_spans.f1"] = spans["f1"]
        out["mention_spans.type_accuracy"] = spans["type_accuracy"]
        out["source_type_sets.f1"] = prf(*self.pool("type_sets", weights))["f1"]
        out["segmentation.f1"] = prf(*self.pool("boundaries", weights))["f1"]
        out["calibration.ece"] = ece_from_tally(self.pool("calibration", weights))
        return out


# --------------------------------------------------------------------------- the one entry point

def evaluate(
    gold_docs: Sequence[Document],
    pred_docs: Sequence[Document],
    *,
    bootstrap: int = DEFAULT_REPLICATES,
    seed: int = 0,
    tolerance: int = 2,
    worst: int = 50,
    gold_name: str = "gold",
    pred_name: str = "predictions",
) -> dict[str, Any]:
    """Score predictions against gold; a JSON-serialisable dict.

    Keys: ``roles`` (per_role, macro_f1, accuracy, confusion_matrix with gold
    rows and predicted columns), ``sources`` (overall and per_type),
    ``mention_spans`` (spans matched with types ignored, and the type accuracy
    on them), ``source_type_sets``, ``segmentation`` (boundary agreement within
    ``tolerance`` characters), ``calibration`` (None without ``probs``),
    ``documents`` (per-document rows), ``worst_passages``, ``ci`` (95%
    bootstrap intervals over documents as ``[low, high]`` keyed like
    ``"roles.macro_f1"``; empty with ``bootstrap=0``) and ``bootstrap``.
    Raises EvalInputError when gold and predictions cannot be paired.
    """
    paired = pair_documents(gold_docs, pred_docs, gold_name=gold_name, pred_name=pred_name)
    tallies = [tally_document(g, p, tolerance) for g, p in paired.pairs]
    pooled = PooledTallies(tallies)
    ones = np.ones(len(tallies))

    y_true = [y for t in tallies for y in t.y_true]
    y_pred = [y for t in tallies for y in t.y_pred]
    type_sets = pooled.pool("type_sets", ones)
    boundaries = pooled.pool("boundaries", ones)
    st_tp, st_pred, st_gold = (int(x) for x in type_sets)
    b_tp, b_pred, b_gold = (int(x) for x in boundaries)

    result: dict[str, Any] = {
        "n_documents": len(tallies),
        "n_gold_passages": len(y_true),
        "n_pred_passages": sum(len(p.passages) for _, p in paired.pairs),
        "unpaired_predictions": paired.unused,
        "roles": role_scores(y_true, y_pred),
        "sources": sources_section(pooled.pool("mentions", ones)),
        "mention_spans": spans_section(pooled.pool("spans", ones)),
        "source_type_sets": {**prf(st_tp, st_pred, st_gold), "matched": st_tp, "n_pred": st_pred,
                             "n_gold": st_gold},
        "segmentation": {**prf(b_tp, b_pred, b_gold), "matched": b_tp, "n_pred": b_pred, "n_gold": b_gold,
                         "tolerance": tolerance},
        "calibration": calibration_section(pooled.pool("calibration", ones), len(y_true)),
        "documents": [document_row(t) for t in tallies],
        "worst_passages": worst_passages(tallies, worst),
        "ci": bootstrap_ci(pooled.headline, len(tallies), bootstrap, seed) if bootstrap > 0 else {},
        "bootstrap": {"replicates": max(bootstrap, 0), "seed": seed, "level": LEVEL, "unit": "document"},
    }
    return result
