"""The majority-overlap rule and boundary matching, on hand-made spans."""

from __future__ import annotations

import pytest

from sourcemark.documents import Passage
from sourcemark.eval.alignment import (
    _max_matching, align_roles, boundary_f1, majority_role, nonspace_prefix, strip_span,
)


def P(start: int, end: int, label: str | None = None, probs: dict | None = None) -> Passage:
    return Passage(start, end, label, probs=probs)


def test_nonspace_prefix_counts_only_visible_characters() -> None:
    prefix = nonspace_prefix("ab \n c")
    assert list(prefix) == [0, 1, 2, 2, 2, 2, 3]


def test_role_covering_most_characters_wins() -> None:
    text = "aaaa bbbb cccc"
    gold = P(0, 14, "claim")
    # claim covers "aaaa" (4), analysis covers "bbbb cccc" (8 non-whitespace)
    assert majority_role(gold, [P(0, 4, "claim"), P(4, 14, "analysis")], text) == "analysis"


def test_whitespace_does_not_count() -> None:
    text = "ab" + " " * 10 + "cde"
    # by raw characters the claim passage (12) beats analysis (3); by non-whitespace 2 < 3
    assert majority_role(P(0, 15, "claim"), [P(0, 12, "claim"), P(12, 15, "analysis")], text) == "analysis"


def test_coverage_is_summed_per_role_not_per_passage() -> None:
    text = "aa bbb cc"
    preds = [P(0, 2, "claim"), P(2, 6, "analysis"), P(6, 9, "claim")]
    # analysis has the largest single passage (3) but claim covers 2 + 2 = 4
    alignment = align_roles([P(0, 9, "other")], preds, text)[0]
    assert alignment.pred_role == "claim"
    assert (alignment.covered, alignment.total) == (4, 7)


def test_no_coverage_gives_default_role() -> None:
    text = "aaa   bbb"
    assert majority_role(P(6, 9, "claim"), [P(0, 3, "claim")], text) == "other"
    # a predicted passage that covers only whitespace of the gold passage is no coverage either
    assert majority_role(P(0, 9, "claim"), [P(3, 6, "analysis")], "aaa   bbb") == "other"
    assert majority_role(P(0, 3, "claim"), [], text) == "other"


def test_tie_goes_to_the_role_first_in_roles_not_to_the_first_passage() -> None:
    text = "aa bb"
    preds = [P(0, 2, "analysis"), P(3, 5, "claim")]
    assert majority_role(P(0, 5, "other"), preds, text) == "claim"


def test_unlabelled_predicted_passages_are_ignored() -> None:
    text = "aaaa b"
    assert majority_role(P(0, 6, "claim"), [P(0, 4, None), P(5, 6, "analysis")], text) == "analysis"


def test_overlapping_predicted_passages_are_still_found() -> None:
    # malformed predictions: a long passage with short ones inside it. Searching back from
    # [6, 7) must not stop at [2, 4) (which ends before the gold passage) and miss [0, 10).
    text = "abcdefghij"
    preds = [P(0, 10, "claim"), P(2, 4, "analysis"), P(6, 7, "analysis")]
    alignment = align_roles([P(5, 8, "other")], preds, text)[0]
    assert (alignment.pred_role, alignment.covered) == ("claim", 3)


def test_confidence_comes_from_the_largest_covering_passage_of_the_winning_role() -> None:
    text = "aaaaaa bb cc"
    preds = [P(0, 6, "claim", {"claim": 0.9, "analysis": 0.1}),
             P(7, 9, "claim", {"claim": 0.3, "analysis": 0.7}),
             P(10, 12, "analysis", {"claim": 0.2, "analysis": 0.8})]
    alignment = align_roles([P(0, 12, "claim")], preds, text)[0]
    assert alignment.pred_role == "claim"
    assert alignment.covering is preds[0]
    assert alignment.confidence == 0.9
    assert align_roles([P(0, 12, "claim")], [P(0, 12, "claim")], text)[0].confidence is None


def test_strip_span() -> None:
    assert strip_span("  ab \n", 0, 6) == (2, 4)
    assert strip_span("   ", 0, 3) is None


TEXT = "Hello world. Bye now."  # sentences at [0, 12) and [13, 21)


def test_boundary_perfect() -> None:
    gold = [P(0, 12), P(13, 21)]
    assert boundary_f1(gold, [P(0, 12), P(13, 21)], TEXT) == {
        "precision": 1.0, "recall": 1.0, "f1": 1.0, "matched": 2, "n_gold": 2, "n_pred": 2}


def test_boundary_whitespace_is_stripped_before_comparing() -> None:
    # the prediction includes the space after the first sentence and before the second
    scores = boundary_f1([P(0, 12), P(13, 21)], [P(0, 13), P(12, 21)], TEXT, tolerance=0)
    assert scores["matched"] == 2


def test_boundary_tolerance() -> None:
    gold = [P(0, 12)]
    pred = [P(0, 14)]  # stripped end 14 vs 12: off by two
    assert boundary_f1(gold, pred, TEXT, tolerance=2)["matched"] == 1
    assert boundary_f1(gold, pred, TEXT, tolerance=1)["matched"] == 0


def test_boundary_split_passage() -> None:
    # one gold sentence cut in two: neither half has both ends right
    scores = boundary_f1([P(0, 21)], [P(0, 12), P(13, 21)], TEXT)
    assert scores == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "matched": 0, "n_gold": 1, "n_pred": 2}


def test_boundary_merged_and_partial() -> None:
    text = "One. Two. Three. Four."  # [0,4) [5,9) [10,16) [17,22)
    gold = [P(0, 4), P(5, 9), P(10, 16), P(17, 22)]
    pred = [P(0, 4), P(5, 16), P(17, 22)]  # the middle two merged
    scores = boundary_f1(gold, pred, text)
    assert (scores["matched"], scores["n_gold"], scores["n_pred"]) == (2, 4, 3)
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 4)
    assert scores["f1"] == pytest.approx(2 * 2 / (4 + 3))


def test_boundary_is_one_to_one() -> None:
    text = "abcdef"
    # with tolerance 3 the single prediction is near both gold passages; it counts once
    scores = boundary_f1([P(0, 3), P(3, 6)], [P(0, 3)], text, tolerance=3)
    assert (scores["matched"], scores["precision"], scores["recall"]) == (1, 1.0, 0.5)
    # and two identical predictions cannot both match one gold passage
    scores = boundary_f1([P(0, 3)], [P(0, 3), P(0, 3)], text)
    assert (scores["matched"], scores["precision"], scores["recall"]) == (1, 0.5, 1.0)


def test_matching_is_maximum_not_greedy() -> None:
    # gold 0 prefers pred 0, which is gold 1's only option: augmenting paths find 2
    assert _max_matching([[0, 1], [0]], 2) == 2


def test_boundary_matching_beats_closest_first() -> None:
    # the middle gold passage is closest to pred (6, 8), the last one's only option;
    # taking the closest candidate first would match 2, the maximum matching finds 3
    text = "abcdefgh"
    gold = [P(0, 6), P(6, 7), P(7, 8)]
    pred = [P(0, 5), P(5, 6), P(6, 8)]
    scores = boundary_f1(gold, pred, text, tolerance=1)
    assert (scores["matched"], scores["precision"], scores["recall"]) == (3, 1.0, 1.0)


def test_boundary_empty_sides() -> None:
    assert boundary_f1([], [], TEXT)["f1"] == 1.0
    assert boundary_f1([P(0, 12)], [], TEXT) == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "matched": 0, "n_gold": 1, "n_pred": 0}
    # whitespace-only passages have no boundaries to compare
    assert boundary_f1([P(12, 13)], [P(12, 13)], TEXT)["n_gold"] == 0
