"""Every metric of ``evaluate`` on small hand-computed cases."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sourcemark.documents import Document, Passage, SourceMention
from sourcemark.eval.bootstrap import bootstrap_ci, percentile_interval, resample_counts
from sourcemark.eval.metrics import (
    PooledTallies, evaluate, match_mentions, prf, role_scores, tally_document,
)
from sourcemark.labels import ROLES


def M(start: int, end: int, kind: str) -> SourceMention:
    return SourceMention(start, end, kind)


def P(start: int, end: int, label: str, sources: list | None = None, probs: dict | None = None) -> Passage:
    return Passage(start, end, label, list(sources or []), probs=probs)


def labelled_doc(labels: list[str], doc_id: str = "d") -> Document:
    """One-word passages "w0 w1 ..." with the given labels."""
    words = [f"w{i}" for i in range(len(labels))]
    text = " ".join(words)
    passages, pos = [], 0
    for word, label in zip(words, labels):
        passages.append(P(pos, pos + len(word), label))
        pos += len(word) + 1
    return Document(doc_id, text, {}, passages)


def relabel(doc: Document, labels: list[str], probs: list[float] | None = None) -> Document:
    passages = []
    for i, (p, label) in enumerate(zip(doc.passages, labels)):
        pr = None
        if probs is not None:
            pr = {r: (probs[i] if r == label else (1 - probs[i]) / 4) for r in ROLES}
        passages.append(P(p.start, p.end, label, probs=pr))
    return Document(doc.doc_id, doc.text, {}, passages)


def score(gold_labels: list[str], pred_labels: list[str]) -> dict:
    gold = labelled_doc(gold_labels)
    return evaluate([gold], [relabel(gold, pred_labels)], bootstrap=0)


# --------------------------------------------------------------------------- roles

def test_roles_perfect() -> None:
    roles = score(list(ROLES), list(ROLES))["roles"]
    assert roles["macro_f1"] == 1.0 and roles["accuracy"] == 1.0
    assert all(roles["per_role"][r] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1,
                                        "predicted": 1} for r in ROLES)
    assert roles["confusion_matrix"] == np.eye(5, dtype=int).tolist()


def test_roles_all_wrong() -> None:
    roles = score(["claim", "claim", "analysis"], ["analysis", "analysis", "claim"])["roles"]
    assert roles["accuracy"] == 0.0
    assert roles["macro_f1"] == 0.0
    assert roles["per_role"]["claim"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2,
                                          "predicted": 1}
    assert roles["per_role"]["analysis"]["f1"] == 0.0
    # rows gold, columns predicted, ROLES order
    assert roles["confusion_matrix"][0] == [0, 0, 2, 0, 0]
    assert roles["confusion_matrix"][2] == [1, 0, 0, 0, 0]


def test_roles_partial() -> None:
    roles = score(["claim", "claim", "analysis", "other"], ["claim", "analysis", "analysis", "claim"])["roles"]
    per = roles["per_role"]
    assert (per["claim"]["precision"], per["claim"]["recall"], per["claim"]["f1"]) == (0.5, 0.5, 0.5)
    assert per["analysis"]["precision"] == 0.5 and per["analysis"]["recall"] == 1.0
    assert per["analysis"]["f1"] == pytest.approx(2 / 3)
    # never predicted: precision undefined, recall and F1 zero
    assert per["other"] == {"precision": None, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 0}
    # absent from gold and predictions: undefined and left out of the macro average
    assert per["reader_comment"]["f1"] is None and per["attributed_report"]["f1"] is None
    assert roles["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0.0) / 3)
    assert roles["accuracy"] == 0.5


def test_role_predicted_but_absent_from_gold_counts_as_zero() -> None:
    roles = score(["claim", "claim"], ["claim", "reader_comment"])["roles"]
    assert roles["per_role"]["reader_comment"] == {"precision": 0.0, "recall": None, "f1": 0.0,
                                                   "support": 0, "predicted": 1}
    assert roles["macro_f1"] == pytest.approx((2 / 3 + 0.0) / 2)


def test_split_and_merged_passages_use_the_majority_rule() -> None:
    text = "Troops entered the town. It seems a turning point. SOHR said ten died near the river."
    s1 = (0, text.index(" It"))
    s2 = (s1[1] + 1, text.index(" SOHR"))
    s3 = (s2[1] + 1, len(text))
    gold = Document("d", text, {}, [P(*s1, "claim"), P(*s2, "analysis"), P(*s3, "attributed_report")])
    cut = text.index(" near")
    pred = Document("d", text, {}, [
        P(s1[0], s2[1], "claim"),                 # s1 and s2 merged, as claim
        P(s3[0], cut, "attributed_report"),       # s3 split: the larger part ...
        P(cut + 1, s3[1], "other"),               # ... and the smaller
    ])
    result = evaluate([gold], [pred], bootstrap=0)
    assert result["roles"]["confusion_matrix"][2] == [1, 0, 0, 0, 0]  # analysis -> claim
    assert result["roles"]["accuracy"] == pytest.approx(2 / 3)
    assert result["worst_passages"][0]["text"] == "It seems a turning point."
    # no predicted passage has both ends of a gold one: segmentation agreement is zero
    seg = result["segmentation"]
    assert (seg["matched"], seg["n_gold"], seg["n_pred"], seg["f1"]) == (0, 3, 3, 0.0)


def test_pooled_confusion_arithmetic_equals_sklearn() -> None:
    gold = labelled_doc(["claim", "claim", "analysis", "other", "other", "attributed_report"])
    pred = relabel(gold, ["claim", "analysis", "analysis", "claim", "other", "reader_comment"])
    tally = tally_document(gold, pred)
    sk = role_scores(tally.y_true, tally.y_pred)
    mine = PooledTallies([tally]).headline(np.ones(1))
    assert mine["roles.macro_f1"] == pytest.approx(sk["macro_f1"])
    assert mine["roles.accuracy"] == pytest.approx(sk["accuracy"])
    for role in ROLES:
        assert mine[f"roles.per_role.{role}.f1"] == pytest.approx(sk["per_role"][role]["f1"])


# --------------------------------------------------------------------------- sources

SRC_TEXT = "SANA said that SOHR and activists reported it, the ministry said."


def source_doc(mentions: list[SourceMention], label: str = "attributed_report") -> Document:
    return Document("s", SRC_TEXT, {}, [P(0, len(SRC_TEXT), label, mentions)])


GOLD_MENTIONS = [M(0, 4, "state_media"), M(15, 19, "monitor_group"), M(24, 33, "local_source"),
                 M(47, 59, "official")]


def test_sources_perfect() -> None:
    s = evaluate([source_doc(GOLD_MENTIONS)], [source_doc(GOLD_MENTIONS)], bootstrap=0)["sources"]
    assert (s["precision"], s["recall"], s["f1"], s["matched"]) == (1.0, 1.0, 1.0, 4)
    assert set(s["per_type"]) == {"state_media", "monitor_group", "local_source", "official"}


def test_sources_all_wrong_types() -> None:
    pred = [M(m.start, m.end, "unnamed") for m in GOLD_MENTIONS]
    s = evaluate([source_doc(GOLD_MENTIONS)], [source_doc(pred)], bootstrap=0)["sources"]
    assert (s["precision"], s["recall"], s["f1"], s["matched"]) == (0.0, 0.0, 0.0, 0)
    assert s["per_type"]["unnamed"] == {"precision": 0.0, "recall": None, "f1": 0.0, "matched": 0,
                                        "n_pred": 4, "n_gold": 0}
    assert s["per_type"]["official"]["precision"] is None and s["per_type"]["official"]["recall"] == 0.0


def test_sources_partial_overlap_matches_touching_does_not() -> None:
    pred = [
        M(0, 2, "state_media"),         # overlaps "SANA" by two characters: match
        M(19, 23, "monitor_group"),     # touches "SOHR" (ends 19) without overlapping: no match
        M(24, 33, "expert"),            # right span, wrong type: no match
    ]
    s = evaluate([source_doc(GOLD_MENTIONS)], [source_doc(pred)], bootstrap=0)["sources"]
    assert (s["matched"], s["n_pred"], s["n_gold"]) == (1, 3, 4)
    assert s["precision"] == pytest.approx(1 / 3)
    assert s["recall"] == pytest.approx(1 / 4)
    assert s["f1"] == pytest.approx(2 * 1 / (3 + 4))
    assert s["per_type"]["state_media"]["f1"] == 1.0
    assert s["per_type"]["monitor_group"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "matched": 0,
                                              "n_pred": 1, "n_gold": 1}


def test_duplicate_predicted_mentions_match_once() -> None:
    gold = [M(0, 4, "state_media")]
    pred = [M(0, 4, "state_media"), M(0, 4, "state_media")]
    s = evaluate([source_doc(gold)], [source_doc(pred)], bootstrap=0)["sources"]
    assert (s["matched"], s["precision"], s["recall"]) == (1, 0.5, 1.0)
    assert s["f1"] == pytest.approx(2 / 3)


def test_mention_matching_is_greedy_by_overlap_size() -> None:
    gold = [M(0, 10, "unnamed"), M(8, 20, "unnamed")]
    pred = [M(5, 12, "unnamed"), M(9, 11, "unnamed")]
    # overlaps: p0-g0 5, p0-g1 4, p1-g0 1, p1-g1 2 -> p0 takes g0 first, then p1 takes g1
    assert sorted(match_mentions(gold, pred)) == [(0, 0), (1, 1)]


def test_type_set_f1_per_passage() -> None:
    text = "SANA and the ministry said. It is bad. Reportedly so. Reuters"
    a, b, c = (0, 27), (28, 38), (39, 53)
    gold = Document("t", text, {}, [
        P(*a, "attributed_report", [M(0, 4, "state_media"), M(9, 21, "official")]),
        P(*b, "analysis"),
        P(*c, "attributed_report", [M(39, 49, "unnamed")]),
    ])
    pred = Document("t", text, {}, [
        P(*a, "attributed_report", [M(0, 4, "state_media"), M(0, 2, "state_media")]),  # a duplicate type
        P(*b, "analysis", [M(28, 30, "expert")]),
        P(*c, "attributed_report"),
        P(54, 61, "other", [M(54, 61, "news_media")]),  # outside every gold passage
    ])
    sets = evaluate([gold], [pred], bootstrap=0)["source_type_sets"]
    # gold sets {state, official}, {}, {unnamed}; predicted {state}, {expert}, {}, outside {news}
    assert (sets["matched"], sets["n_pred"], sets["n_gold"]) == (1, 3, 3)
    assert sets["precision"] == pytest.approx(1 / 3) and sets["recall"] == pytest.approx(1 / 3)


# --------------------------------------------------------------------------- calibration

def test_ece_hand_computed() -> None:
    gold = labelled_doc(["claim", "claim", "claim", "claim"])
    pred = relabel(gold, ["claim", "analysis", "claim", "analysis"], probs=[0.95, 0.95, 0.55, 0.25])
    cal = evaluate([gold], [pred], bootstrap=0)["calibration"]
    # bin 9: two passages, accuracy 0.5, confidence 0.95 -> 2/4 * 0.45
    # bin 5: accuracy 1, confidence 0.55 -> 1/4 * 0.45;  bin 2: accuracy 0, confidence 0.25 -> 1/4 * 0.25
    assert cal["ece"] == pytest.approx(0.225 + 0.1125 + 0.0625)
    assert cal["n"] == 4 and cal["n_without_probs"] == 0
    bins = {i: b for i, b in enumerate(cal["bins"])}
    assert bins[9]["count"] == 2 and bins[9]["accuracy"] == 0.5 and bins[9]["confidence"] == pytest.approx(0.95)
    assert bins[5]["count"] == 1 and bins[2]["count"] == 1 and bins[0]["count"] == 0
    assert bins[0]["accuracy"] is None


def test_ece_zero_when_confidence_equals_accuracy_and_bin_edges() -> None:
    gold = labelled_doc(["claim"] * 5)
    pred = relabel(gold, ["claim"] * 4 + ["analysis"], probs=[0.8] * 5)
    cal = evaluate([gold], [pred], bootstrap=0)["calibration"]
    assert cal["ece"] == pytest.approx(0.0)
    assert cal["bins"][8]["count"] == 5
    gold = labelled_doc(["claim", "claim"])
    cal = evaluate([gold], [relabel(gold, ["claim", "claim"], probs=[1.0, 0.1])], bootstrap=0)["calibration"]
    assert cal["bins"][9]["count"] == 1 and cal["bins"][1]["count"] == 1


def test_calibration_needs_probs() -> None:
    gold = labelled_doc(["claim", "analysis"])
    assert evaluate([gold], [relabel(gold, ["claim", "analysis"])], bootstrap=0)["calibration"] is None
    # passages without probs (and uncovered ones) are left out and counted
    pred = relabel(gold, ["claim", "analysis"], probs=[0.9, 0.9])
    pred.passages[1].probs = None
    cal = evaluate([gold], [pred], bootstrap=0)["calibration"]
    assert (cal["n"], cal["n_without_probs"]) == (1, 1)
    assert cal["ece"] == pytest.approx(0.1)


# --------------------------------------------------------------------------- documents, bootstrap

def test_per_document_breakdown() -> None:
    good, bad = labelled_doc(["claim", "analysis"], "good"), labelled_doc(["claim", "claim"], "bad")
    result = evaluate([good, bad], [relabel(good, ["claim", "analysis"]), relabel(bad, ["claim", "other"])],
                      bootstrap=0)
    rows = {r["doc_id"]: r for r in result["documents"]}
    assert [r["doc_id"] for r in result["documents"]] == ["good", "bad"]
    assert rows["good"]["accuracy"] == 1.0 and rows["good"]["errors"] == 0
    assert rows["bad"]["accuracy"] == 0.5 and rows["bad"]["errors"] == 1
    assert rows["bad"]["macro_f1"] == pytest.approx((2 / 3 + 0.0) / 2)
    assert result["roles"]["accuracy"] == 0.75
    assert [w["doc_id"] for w in result["worst_passages"]] == ["bad"]


def test_result_is_strict_json() -> None:
    result = score(["claim", "other"], ["analysis", "other"])
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_prf_undefined_is_none() -> None:
    assert prf(0, 0, 0) == {"precision": None, "recall": None, "f1": None}
    assert prf(0, 0, 3) == {"precision": None, "recall": 0.0, "f1": 0.0}
    assert prf(2, 4, 2) == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3)}


def test_resample_counts_deterministic() -> None:
    a, b = resample_counts(5, 50, seed=1), resample_counts(5, 50, seed=1)
    assert np.array_equal(a, b)
    assert (a.sum(axis=1) == 5).all()
    assert not np.array_equal(a, resample_counts(5, 50, seed=2))


def test_bootstrap_over_documents_hand_case() -> None:
    # one document entirely right, one entirely wrong (one passage each): a replicate has
    # accuracy 1, 0.5 or 0 with probability 1/4, 1/2, 1/4 -> the 95% interval is [0, 1]
    right, wrong = labelled_doc(["claim"], "right"), labelled_doc(["claim"], "wrong")
    result = evaluate([right, wrong], [relabel(right, ["claim"]), relabel(wrong, ["other"])],
                      bootstrap=400, seed=0)
    assert result["roles"]["accuracy"] == 0.5
    assert result["ci"]["roles.accuracy"] == [0.0, 1.0]
    # a single document: every replicate is that document, the interval is a point
    single = evaluate([wrong], [relabel(wrong, ["other"])], bootstrap=50)
    assert single["ci"]["roles.accuracy"] == [0.0, 0.0]


def test_bootstrap_resamples_documents_not_passages() -> None:
    # a big all-right document and a small all-wrong one: if passages were resampled the
    # accuracy would stay near 0.9; resampling documents gives replicates of 1.0 and 0.0
    big, small = labelled_doc(["claim"] * 9, "big"), labelled_doc(["claim"], "small")
    result = evaluate([big, small], [relabel(big, ["claim"] * 9), relabel(small, ["other"])],
                      bootstrap=400, seed=0)
    assert result["ci"]["roles.accuracy"] == [0.0, 1.0]


def test_bootstrap_skips_undefined_replicates() -> None:
    values = iter([{"x": None}, {"x": 1.0}, {"x": float("nan")}, {"x": 3.0}])
    assert bootstrap_ci(lambda counts: next(values), n_docs=2, n_replicates=4) == {"x": [pytest.approx(1.05), pytest.approx(2.95)]}
    assert percentile_interval([]) is None
    assert bootstrap_ci(lambda counts: {"x": None}, n_docs=2, n_replicates=3) == {}


def test_span_only_mentions_and_type_accuracy_separate_finding_from_typing() -> None:
    """A source found with the wrong type counts for span-only F1 and against type accuracy."""
    from sourcemark.documents import Document, Passage, SourceMention
    from sourcemark.eval.metrics import evaluate

    text = "SANA said it. SOHR said it. CNN said it."
    def doc(types: list[str | None]) -> Document:
        passages = []
        for k, (start, kind) in enumerate(zip((0, 14, 28), types)):
            sources = [SourceMention(start, start + 4 - (k == 2), kind)] if kind else []
            passages.append(Passage(start, start + 13 - (k == 2), "attributed_report", sources))
        return Document("d", text, {}, passages)
    gold = doc(["state_media", "monitor_group", "news_media"])
    pred = doc(["state_media", "news_media", None])  # one right, one wrongly typed, one missed
    result = evaluate([gold], [pred], bootstrap=0)
    assert result["sources"]["matched"] == 1 and result["sources"]["f1"] == pytest.approx(2 / 5)
    spans = result["mention_spans"]
    assert (spans["matched"], spans["n_pred"], spans["n_gold"]) == (2, 2, 3)
    assert spans["f1"] == pytest.approx(4 / 5) and spans["type_accuracy"] == pytest.approx(1 / 2)
