"""Agreement between annotators of the same tasks, and how far the model's pre-labels steer them.

Computations on documents only (``TeamTask`` in, a JSON-ready dict out): the
server is read elsewhere, so these rules are tested without one.

Roles. Annotators may cut passages differently, so roles are compared on
*units*: the text is cut at every passage boundary of every annotator of the
task, and each piece holding a non-whitespace character is a unit whose
label, per annotator, is the role of the passage containing it (none when
that annotator left it unlabelled). When the annotators kept the same
passages, as they do when correcting pre-segmented tasks, units are passages.
A unit counts for agreement when at least two annotators labelled it.

* Two annotators in the whole set: Cohen's kappa (scikit-learn). More (or
  changing pairs): Krippendorff's alpha, nominal (the ``krippendorff``
  package), which takes any number of annotators and missing labels. Alpha is
  reported in both cases; kappa only when it is defined (two annotators).
* Per role: specific agreement, ``2 n_rr / (n_r. + n_.r)`` over annotator
  pairs: of the units one annotator called ``r``, how often the other did too
  (the per-category agreement of Fleiss, and the F1 of one annotator against
  the other).

Mentions. Between every pair of annotators, mentions are matched with the
evaluation stage's rule (:func:`sourcemark.eval.metrics.match_mentions`:
overlapping spans, same type for typed F1, one-to-one); F1 is symmetric, so
it does not matter who is "gold". Span-only F1 ignores types and adds the
share of matched spans given the same type.

Pre-label influence. For each annotator: the share of their final labels
equal to the model's pre-label (a passage's pre-label is the predicted role
covering most of it, the evaluation's majority-overlap rule; a mention is
kept when a predicted mention matches it, typed), against how often their
labels agree with the other annotators'. Both are raw rates, per role (by the
annotator's final role) and per source type, so they compare directly. If
the pre-labels were merely right, people who accept them would also agree
with each other; an annotator who accepts most pre-labels while agreeing
little with colleagues is the warning sign that the pre-label, not the text,
decided (``warnings`` says so in words).

Confidence intervals: percentile bootstrap over documents
(:mod:`sourcemark.eval.bootstrap`). Every figure is a function of per-document
tallies (confusion and coincidence matrices, mention counts), so a replicate
is a weighted sum; the bootstrap recomputes kappa and alpha from pooled
matrices with the textbook formulas, which a test holds equal to the
libraries' values.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Sequence

import numpy as np

from sourcemark.annotation.team import TeamTask
from sourcemark.documents import Document, Passage
from sourcemark.eval.alignment import align_roles, nonspace_prefix
from sourcemark.eval.bootstrap import DEFAULT_REPLICATES, LEVEL, bootstrap_ci
from sourcemark.eval.metrics import match_mentions, mention_tally, prf, span_tally, spans_section
from sourcemark.labels import ROLES, SOURCE_TYPES

_ROLE_INDEX = {r: i for i, r in enumerate(ROLES)}
_TYPE_INDEX = {t: i for i, t in enumerate(SOURCE_TYPES)}

#: Acceptance of the pre-label at or above this is "high".
HIGH_ACCEPTANCE = 0.8
#: Agreement below this is "low": Krippendorff's floor for even tentative conclusions.
LOW_AGREEMENT = 0.667
#: Fewer labels than this say nothing about one annotator, role or type: no warning from them.
MIN_ITEMS = 5


class AgreementError(ValueError):
    """Nothing to measure (no task with two or more annotators)."""


# ----------------------------------------------------------------------------- units and coefficients

Unit = tuple[int, int, dict[str, str]]


def _container(passages: Sequence[Passage], starts: Sequence[int], start: int, end: int) -> Passage | None:
    i = bisect_right(starts, start) - 1
    if i >= 0 and passages[i].start <= start and end <= passages[i].end:
        return passages[i]
    return None


def role_units(team: TeamTask) -> list[Unit]:
    """The units of one task (see the module docstring) that two or more annotators labelled."""
    names = team.annotators
    cuts = sorted({b for n in names for p in team.documents[n].passages for b in (p.start, p.end)})
    prefix = nonspace_prefix(team.text)
    indexed = {n: (team.documents[n].passages, [p.start for p in team.documents[n].passages]) for n in names}
    units: list[Unit] = []
    for a, b in zip(cuts, cuts[1:]):
        if prefix[b] == prefix[a]:
            continue
        labels = {}
        for n in names:
            p = _container(*indexed[n], a, b)
            if p is not None and p.label in _ROLE_INDEX:
                labels[n] = str(p.label)
        if len(labels) >= 2:
            units.append((a, b, labels))
    return units


def kappa_from_confusion(matrix: np.ndarray) -> float | None:
    """Cohen's kappa of a confusion matrix (rater 1 rows, rater 2 columns); None when undefined."""
    matrix = np.asarray(matrix, dtype=float)
    n = matrix.sum()
    if not n:
        return None
    observed = np.trace(matrix) / n
    expected = float(matrix.sum(axis=1) @ matrix.sum(axis=0)) / n ** 2
    return None if expected >= 1.0 else float((observed - expected) / (1.0 - expected))


def coincidences(value_counts: np.ndarray) -> np.ndarray:
    """Krippendorff's coincidence matrix of units given as label counts (units x labels)."""
    counts = np.asarray(value_counts, dtype=float)
    pairable = counts.sum(axis=1)
    counts = counts[pairable >= 2]
    weights = 1.0 / (counts.sum(axis=1) - 1.0)
    outer = np.einsum("u,ui,uj->ij", weights, counts, counts)
    return outer - np.diag((weights[:, None] * counts).sum(axis=0))


def alpha_from_coincidences(matrix: np.ndarray) -> float | None:
    """Nominal Krippendorff's alpha from a (pooled) coincidence matrix; None when undefined."""
    matrix = np.asarray(matrix, dtype=float)
    totals = matrix.sum(axis=1)
    n = totals.sum()
    expected = n ** 2 - float((totals ** 2).sum())
    if n <= 1 or expected <= 0:
        return None
    return float(1.0 - (n - 1.0) * (n - np.trace(matrix)) / expected)


def library_alpha(value_counts: np.ndarray) -> float | None:
    """Nominal Krippendorff's alpha by the ``krippendorff`` package; None when it is undefined."""
    import krippendorff  # imported here: only this command needs it

    counts = np.asarray(value_counts, dtype=float)
    counts = counts[counts.sum(axis=1) >= 2]
    used = counts.sum(axis=0) > 0
    if counts.shape[0] == 0 or used.sum() < 2:
        return None
    value = krippendorff.alpha(value_counts=counts[:, used], level_of_measurement="nominal")
    return None if math.isnan(value) else float(value)


# ----------------------------------------------------------------------------- per-document tallies

@dataclass
class TaskTally:
    """What every pooled figure needs from one task; arrays indexed by annotator, role or type."""

    doc_id: str
    units: list[Unit]
    pair_confusion: np.ndarray     # (R, R): first-named annotator of each pair in rows
    coincidence: np.ndarray        # (R, R)
    value_counts: np.ndarray       # (units, R)
    mentions: np.ndarray           # (3, T): matched, mentions of the second, of the first; over pairs
    spans: np.ndarray              # (4,): span_tally over pairs
    agree_roles: np.ndarray        # (A, R, R): annotator a (rows) against each other annotator
    agree_mentions: np.ndarray     # (A, 2, T): a's mentions matched by another annotator, a's mentions
    accept_roles: np.ndarray       # (A, 2, R): a's passages whose pre-label is their final role, a's passages
    accept_mentions: np.ndarray    # (A, 2, T): a's mentions matching a pre-labelled one, a's mentions
    has_prelabel: bool


def _mentions(doc: Document) -> list:
    return [m for p in doc.passages for m in p.sources]


def tally_task(team: TeamTask, annotators: Sequence[str]) -> TaskTally:
    """Reduce one task with two or more annotators to the tallies pooled figures are made of."""
    R, T, A = len(ROLES), len(SOURCE_TYPES), len(annotators)
    index = {name: k for k, name in enumerate(annotators)}
    names = team.annotators
    units = role_units(team)
    value_counts = np.zeros((len(units), R))
    pair_confusion = np.zeros((R, R))
    agree_roles = np.zeros((A, R, R))
    for u, (_, _, labels) in enumerate(units):
        for label in labels.values():
            value_counts[u, _ROLE_INDEX[label]] += 1
        for first, second in combinations(sorted(labels), 2):
            i, j = _ROLE_INDEX[labels[first]], _ROLE_INDEX[labels[second]]
            pair_confusion[i, j] += 1
            agree_roles[index[first], i, j] += 1
            agree_roles[index[second], j, i] += 1
    mentions = np.zeros((3, T))
    spans = np.zeros(4)
    agree_mentions = np.zeros((A, 2, T))
    for first, second in combinations(names, 2):
        one, two = team.documents[first], team.documents[second]
        mentions += mention_tally(one, two)
        spans += span_tally(one, two)
        for name, a, b in ((first, one, two), (second, two, one)):
            tally = mention_tally(a, b)  # a as "gold": row 0 matched per type, row 2 a's mentions
            agree_mentions[index[name], 0] += tally[0]
            agree_mentions[index[name], 1] += tally[2]
    accept_roles = np.zeros((A, 2, R))
    accept_mentions = np.zeros((A, 2, T))
    if team.prelabel is not None:
        prefix = nonspace_prefix(team.text)
        predicted_mentions = _mentions(team.prelabel)
        for name in names:
            doc, k = team.documents[name], index[name]
            for alignment in align_roles(doc.passages, team.prelabel.passages, team.text, prefix):
                r = _ROLE_INDEX[str(alignment.gold.label)]
                accept_roles[k, 1, r] += 1
                accept_roles[k, 0, r] += alignment.pred_role == alignment.gold.label
            final = _mentions(doc)
            for gi, _ in match_mentions(final, predicted_mentions):
                accept_mentions[k, 0, _TYPE_INDEX[final[gi].type]] += 1
            for m in final:
                accept_mentions[k, 1, _TYPE_INDEX[m.type]] += 1
    return TaskTally(team.doc_id, units, pair_confusion, coincidences(value_counts) if len(units) else
                     np.zeros((R, R)), value_counts, mentions, spans, agree_roles, agree_mentions,
                     accept_roles, accept_mentions, team.prelabel is not None)


# ----------------------------------------------------------------------------- pooling

def _rate(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator else None


def specific_agreement(confusion: np.ndarray) -> list[float | None]:
    """Per label, ``2 n_rr / (n_r. + n_.r)``: how often a unit one annotator gave label r got r from the other."""
    confusion = np.asarray(confusion, dtype=float)
    rows, cols = confusion.sum(axis=1), confusion.sum(axis=0)
    return [_rate(2 * confusion[r, r], rows[r] + cols[r]) for r in range(confusion.shape[0])]


class Pooled:
    """Tallies of all tasks stacked, so a document-weight vector pools them in one product."""

    def __init__(self, tallies: Sequence[TaskTally], annotators: Sequence[str], two_raters: bool) -> None:
        self.annotators = list(annotators)
        self.two_raters = two_raters
        self.arrays = {name: np.stack([getattr(t, name) for t in tallies]).astype(float) for name in (
            "pair_confusion", "coincidence", "mentions", "spans", "agree_roles", "agree_mentions",
            "accept_roles", "accept_mentions")}

    def pool(self, name: str, weights: np.ndarray) -> np.ndarray:
        return np.tensordot(np.asarray(weights, dtype=float), self.arrays[name], axes=1)

    def headline(self, weights: np.ndarray) -> dict[str, float | None]:
        """The figures that get intervals, for documents weighted by ``weights``."""
        confusion = self.pool("pair_confusion", weights)
        alpha = alpha_from_coincidences(self.pool("coincidence", weights))
        out: dict[str, float | None] = {
            "roles.coefficient": kappa_from_confusion(confusion) if self.two_raters else alpha,
            "roles.krippendorff_alpha": alpha,
            "roles.observed_agreement": _rate(np.trace(confusion), confusion.sum()),
        }
        for role, value in zip(ROLES, specific_agreement(confusion)):
            out[f"roles.per_role.{role}.specific_agreement"] = value
        mentions = self.pool("mentions", weights)
        out["mentions.f1"] = prf(*mentions.sum(axis=1))["f1"]
        for i, kind in enumerate(SOURCE_TYPES):
            out[f"mentions.per_type.{kind}.f1"] = prf(*mentions[:, i])["f1"]
        spans = spans_section(self.pool("spans", weights))
        out["mentions.span_f1"] = spans["f1"]
        out["mentions.type_agreement"] = spans["type_accuracy"]
        agree_roles, agree_mentions = self.pool("agree_roles", weights), self.pool("agree_mentions", weights)
        accept_roles, accept_mentions = self.pool("accept_roles", weights), self.pool("accept_mentions", weights)
        for k, name in enumerate(self.annotators):
            key = f"annotators.{name}"
            out[f"{key}.role_acceptance"] = _rate(accept_roles[k, 0].sum(), accept_roles[k, 1].sum())
            out[f"{key}.role_agreement"] = _rate(np.trace(agree_roles[k]), agree_roles[k].sum())
            out[f"{key}.mention_acceptance"] = _rate(accept_mentions[k, 0].sum(), accept_mentions[k, 1].sum())
            out[f"{key}.mention_agreement"] = _rate(agree_mentions[k, 0].sum(), agree_mentions[k, 1].sum())
        return out


# ----------------------------------------------------------------------------- the one entry point

def _influence(pooled: Pooled, ones: np.ndarray) -> dict[str, Any]:
    """Per annotator: acceptance of the pre-label against agreement with the others, overall and per label."""
    agree_roles, agree_mentions = pooled.pool("agree_roles", ones), pooled.pool("agree_mentions", ones)
    accept_roles, accept_mentions = pooled.pool("accept_roles", ones), pooled.pool("accept_mentions", ones)
    out: dict[str, Any] = {}
    for k, name in enumerate(pooled.annotators):
        per_role = {}
        for r, role in enumerate(ROLES):
            n = int(accept_roles[k, 1, r])
            paired = agree_roles[k, r].sum()
            if n or paired:
                per_role[role] = {"acceptance": _rate(accept_roles[k, 0, r], n), "n": n,
                                  "agreement": _rate(agree_roles[k, r, r], paired), "n_paired": int(paired)}
        per_type = {}
        for t, kind in enumerate(SOURCE_TYPES):
            n = int(accept_mentions[k, 1, t])
            paired = agree_mentions[k, 1, t]
            if n or paired:
                per_type[kind] = {"acceptance": _rate(accept_mentions[k, 0, t], n), "n": n,
                                  "agreement": _rate(agree_mentions[k, 0, t], paired), "n_paired": int(paired)}
        out[name] = {
            "roles": {"acceptance": _rate(accept_roles[k, 0].sum(), accept_roles[k, 1].sum()),
                      "n": int(accept_roles[k, 1].sum()),
                      "agreement": _rate(np.trace(agree_roles[k]), agree_roles[k].sum()),
                      "n_paired": int(agree_roles[k].sum())},
            "mentions": {"acceptance": _rate(accept_mentions[k, 0].sum(), accept_mentions[k, 1].sum()),
                         "n": int(accept_mentions[k, 1].sum()),
                         "agreement": _rate(agree_mentions[k, 0].sum(), agree_mentions[k, 1].sum()),
                         "n_paired": int(agree_mentions[k, 1].sum())},
            "per_role": per_role, "per_type": per_type,
        }
    return out


def _steered(row: dict[str, Any]) -> bool:
    acceptance, agreement = row.get("acceptance"), row.get("agreement")
    return (acceptance is not None and agreement is not None and row.get("n", 0) >= MIN_ITEMS
            and row.get("n_paired", 0) >= MIN_ITEMS and acceptance >= HIGH_ACCEPTANCE and agreement < LOW_AGREEMENT)


def warnings(influence: dict[str, Any]) -> list[str]:
    """The warning signs, in words: high acceptance of the pre-label with low agreement between annotators."""
    out = []
    for name, row in influence.items():
        checks = [("passage roles", row["roles"], "passages"), ("source mentions", row["mentions"], "mentions")]
        checks += [(f"role {r}", v, f"passages they labelled {r}") for r, v in row["per_role"].items()]
        checks += [(f"source type {t}", v, f"{t} mentions") for t, v in row["per_type"].items()]
        for what, values, items in checks:
            if _steered(values):
                out.append(
                    f"{name}, {what}: kept the model's pre-label on {values['acceptance']:.0%} of {items} "
                    f"(n={values['n']}) but agrees with the other annotators on only {values['agreement']:.0%} "
                    f"(n={values['n_paired']}). High acceptance with low agreement is the warning sign: the "
                    "pre-labels may be deciding these labels rather than the text and the guide.")
    return out


def measure_agreement(teams: Sequence[TeamTask], *, bootstrap: int = DEFAULT_REPLICATES,
                      seed: int = 0) -> dict[str, Any]:
    """Agreement, per role and type, and pre-label influence over the tasks with two or more annotators.

    Raises AgreementError when there is no such task.
    """
    teams = [t for t in teams if len(t.documents) >= 2]
    if not teams:
        raise AgreementError("no task has two or more submitted annotations by different annotators: nothing "
                             "to compare (push with --overlap 2 and let two annotators label the same tasks)")
    annotators = sorted({n for t in teams for n in t.documents})
    two_raters = len(annotators) == 2
    tallies = [tally_task(t, annotators) for t in teams]
    pooled = Pooled(tallies, annotators, two_raters)
    ones = np.ones(len(tallies))
    confusion = pooled.pool("pair_confusion", ones)
    value_counts = np.concatenate([t.value_counts for t in tallies]) if tallies else np.zeros((0, len(ROLES)))
    alpha = library_alpha(value_counts)
    kappa = None
    if two_raters:
        first = [u[2][annotators[0]] for t in tallies for u in t.units]
        second = [u[2][annotators[1]] for t in tallies for u in t.units]
        if first:
            from sklearn.metrics import cohen_kappa_score  # imported here: slow, and only this command needs it

            value = float(cohen_kappa_score(first, second, labels=list(ROLES)))
            kappa = None if math.isnan(value) else value
    specific = specific_agreement(confusion)
    rows, cols = confusion.sum(axis=1), confusion.sum(axis=0)
    mentions = pooled.pool("mentions", ones)
    matched, n_second, n_first = (int(x) for x in mentions.sum(axis=1))
    spans = spans_section(pooled.pool("spans", ones))
    influence = _influence(pooled, ones)
    return {
        "n_tasks": len(teams),
        "annotators": annotators,
        "annotators_per_task": {str(k): sum(len(t.documents) == k for t in teams)
                                for k in sorted({len(t.documents) for t in teams})},
        "tasks_with_prelabel": sum(t.has_prelabel for t in tallies),
        "roles": {
            "coefficient": "cohen_kappa" if two_raters else "krippendorff_alpha",
            "value": kappa if two_raters else alpha,
            "cohen_kappa": kappa,
            "krippendorff_alpha": alpha,
            "observed_agreement": _rate(np.trace(confusion), confusion.sum()),
            "n_units": len(value_counts),
            "n_pairs": int(confusion.sum()),
            "per_role": {role: {"specific_agreement": specific[r], "n": int(rows[r] + cols[r])}
                         for r, role in enumerate(ROLES)},
            "pair_confusion": confusion.astype(int).tolist(),
        },
        "mentions": {
            "f1": prf(matched, n_second, n_first)["f1"], "matched": matched, "n": n_first + n_second,
            "span_f1": spans["f1"], "span_matched": spans["matched"], "type_agreement": spans["type_accuracy"],
            "per_type": {kind: {"f1": prf(*mentions[:, i])["f1"], "matched": int(mentions[0, i]),
                                "n": int(mentions[1, i] + mentions[2, i])}
                         for i, kind in enumerate(SOURCE_TYPES) if mentions[1, i] + mentions[2, i]},
        },
        "prelabel_influence": influence,
        "warnings": warnings(influence),
        "thresholds": {"high_acceptance": HIGH_ACCEPTANCE, "low_agreement": LOW_AGREEMENT, "min_items": MIN_ITEMS},
        "ci": bootstrap_ci(pooled.headline, len(tallies), bootstrap, seed) if bootstrap > 0 else {},
        "bootstrap": {"replicates": max(bootstrap, 0), "seed": seed, "level": LEVEL, "unit": "document"},
    }
