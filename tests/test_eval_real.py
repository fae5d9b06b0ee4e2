"""The real gold (training/data/real_dev.jsonl) scored against itself and against a known degradation."""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path

import pytest

from sourcemark.documents import Document
from sourcemark.eval.metrics import evaluate
from sourcemark.jsonl import read_documents
from sourcemark.labels import ROLES

REAL_DEV = Path(__file__).resolve().parents[1] / "training" / "data" / "real_dev.jsonl"


@pytest.fixture(scope="module")
def gold() -> list[Document]:
    return list(read_documents(REAL_DEV))


def with_probs(docs: list[Document], confidence: float) -> list[Document]:
    """A copy where every passage gives its own label ``confidence`` and the rest the remainder."""
    out = copy.deepcopy(docs)
    for d in out:
        for p in d.passages:
            p.probs = {r: confidence if r == p.label else (1 - confidence) / (len(ROLES) - 1) for r in ROLES}
    return out


def degrade(docs: list[Document]) -> list[Document]:
    """The known degradation: analysis -> claim, unnamed mentions dropped, two passages merged.

    In seed-004 the headline [0, 78) (claim) and the photo caption [80, 314)
    (attributed_report, one state_media mention) become one claim passage.
    """
    out = copy.deepcopy(docs)
    for d in out:
        for p in d.passages:
            if p.label == "analysis":
                p.label = "claim"
            p.sources = [s for s in p.sources if s.type != "unnamed"]
        if d.doc_id == "seed-004":
            first, second = d.passages[0], d.passages[1]
            assert (first.start, first.end, second.start, second.end) == (0, 78, 80, 314)
            first.end = second.end
            first.sources = first.sources + second.sources
            del d.passages[1]
    return with_probs(out, 0.8)


def test_the_gold_set_is_what_the_expected_numbers_assume(gold: list[Document]) -> None:
    labels = Counter(p.label for d in gold for p in d.passages)
    assert labels == {"claim": 52, "attributed_report": 81, "analysis": 18, "reader_comment": 3, "other": 26}
    mentions = Counter(s.type for d in gold for p in d.passages for s in p.sources)
    assert sum(mentions.values()) == 105 and mentions["unnamed"] == 14
    assert sum(len({s.type for s in p.sources}) for d in gold for p in d.passages) == 100


def test_gold_against_itself_is_perfect_everywhere(gold: list[Document]) -> None:
    result = evaluate(gold, with_probs(gold, 1.0), bootstrap=60, seed=0)
    roles = result["roles"]
    assert roles["macro_f1"] == 1.0 and roles["accuracy"] == 1.0
    for role in ROLES:
        assert (roles["per_role"][role]["precision"], roles["per_role"][role]["recall"],
                roles["per_role"][role]["f1"]) == (1.0, 1.0, 1.0)
    for section in ("sources", "source_type_sets", "segmentation"):
        assert (result[section]["precision"], result[section]["recall"], result[section]["f1"]) == (1.0, 1.0, 1.0)
    assert all(v["f1"] == 1.0 for v in result["sources"]["per_type"].values())
    assert result["calibration"]["ece"] == 0.0
    for row in result["documents"]:
        assert (row["accuracy"], row["macro_f1"], row["source_f1"], row["boundary_f1"]) == (1.0, 1.0, 1.0, 1.0)
    assert result["worst_passages"] == []
    assert result["ci"], "bootstrap asked for, intervals expected"
    for name, interval in result["ci"].items():
        expected = [0.0, 0.0] if name == "calibration.ece" else [1.0, 1.0]
        assert interval == expected, name


def test_known_degradation_gives_exact_numbers(gold: list[Document]) -> None:
    result = evaluate(gold, degrade(gold), bootstrap=0)
    roles = result["roles"]
    per = roles["per_role"]
    # confusion: 18 analysis -> claim, 1 attributed_report (the merged caption) -> claim
    assert roles["confusion_matrix"] == [
        [52, 0, 0, 0, 0],
        [1, 80, 0, 0, 0],
        [18, 0, 0, 0, 0],
        [0, 0, 0, 3, 0],
        [0, 0, 0, 0, 26],
    ]
    assert per["claim"]["precision"] == pytest.approx(52 / 71)
    assert per["claim"]["recall"] == 1.0
    assert per["claim"]["f1"] == pytest.approx(104 / 123)
    assert per["attributed_report"]["precision"] == 1.0
    assert per["attributed_report"]["recall"] == pytest.approx(80 / 81)
    assert per["attributed_report"]["f1"] == pytest.approx(160 / 161)
    assert per["analysis"] == {"precision": None, "recall": 0.0, "f1": 0.0, "support": 18, "predicted": 0}
    assert roles["macro_f1"] == pytest.approx((104 / 123 + 160 / 161 + 0 + 1 + 1) / 5)
    assert roles["accuracy"] == pytest.approx(161 / 180)

    sources = result["sources"]
    assert (sources["matched"], sources["n_pred"], sources["n_gold"]) == (91, 91, 105)
    assert sources["precision"] == 1.0
    assert sources["recall"] == pytest.approx(91 / 105)
    assert sources["f1"] == pytest.approx(182 / 196)
    assert sources["per_type"]["unnamed"] == {"precision": None, "recall": 0.0, "f1": 0.0, "matched": 0,
                                              "n_pred": 0, "n_gold": 14}
    sets = result["source_type_sets"]
    assert (sets["matched"], sets["n_pred"], sets["n_gold"]) == (86, 86, 100)
    assert sets["f1"] == pytest.approx(172 / 186)

    seg = result["segmentation"]
    assert (seg["matched"], seg["n_pred"], seg["n_gold"]) == (178, 179, 180)
    assert seg["f1"] == pytest.approx(356 / 359)

    # every predicted role has probability 0.8; accuracy is 161/180, all in bin [0.8, 0.9)
    assert result["calibration"]["ece"] == pytest.approx(161 / 180 - 0.8)
    assert result["calibration"]["bins"][8]["count"] == 180

    rows = {r["doc_id"]: r for r in result["documents"]}
    assert rows["seed-001"]["accuracy"] == pytest.approx(31 / 36)
    assert rows["seed-002"]["accuracy"] == pytest.approx(111 / 124)
    assert rows["seed-004"]["accuracy"] == pytest.approx(19 / 20)
    assert rows["seed-004"]["boundary_f1"] == pytest.approx(2 * 18 / (20 + 19))
    assert rows["seed-001"]["errors"] + rows["seed-002"]["errors"] + rows["seed-004"]["errors"] == 19
    worst = [w for w in result["worst_passages"] if w["doc_id"] == "seed-004"]
    assert len(worst) == 1 and worst[0]["gold"] == "attributed_report" and worst[0]["pred"] == "claim"
    assert worst[0]["text"].startswith("In this photo released by the Syrian official news agency SANA")


def test_confidence_intervals_are_deterministic_for_a_seed(gold: list[Document]) -> None:
    pred = degrade(gold)
    first = evaluate(gold, pred, bootstrap=150, seed=3)["ci"]
    again = evaluate(gold, pred, bootstrap=150, seed=3)["ci"]
    other = evaluate(gold, pred, bootstrap=150, seed=4)["ci"]
    assert first == again
    assert first != other
    low, high = first["roles.accuracy"]
    # a replicate's pooled accuracy lies between the worst and the best document's
    assert 31 / 36 - 1e-9 <= low < high <= 19 / 20 + 1e-9
