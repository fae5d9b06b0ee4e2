"""Pairing gold with predictions, and the errors for inputs that cannot be scored."""

from __future__ import annotations

import pytest

from sourcemark.documents import Document, Passage, SourceMention
from sourcemark.eval.metrics import evaluate
from sourcemark.eval.pairing import EvalInputError, pair_documents


def doc(doc_id: str, text: str = "Alpha beta.", label: str | None = "claim", kind: str = "unnamed") -> Document:
    return Document(doc_id, text, {}, [Passage(0, len(text), label, [SourceMention(0, 5, kind)])])


def test_pairs_by_doc_id_in_gold_order() -> None:
    gold = [doc("a", "Text A."), doc("b", "Text B.")]
    pred = [doc("b", "Text B."), doc("a", "Text A."), doc("extra", "Other.")]
    paired = pair_documents(gold, pred)
    assert [(g.doc_id, p.doc_id) for g, p in paired.pairs] == [("a", "a"), ("b", "b")]
    assert paired.unused == ["extra"]


def test_pairs_by_identical_text_when_doc_id_differs() -> None:
    gold = [doc("gold-1", "Same text."), doc("gold-2", "Other text.")]
    pred = [doc("run-7", "Other text."), doc("run-3", "Same text.")]
    paired = pair_documents(gold, pred)
    assert [(g.doc_id, p.doc_id) for g, p in paired.pairs] == [("gold-1", "run-3"), ("gold-2", "run-7")]


def test_missing_prediction_names_doc_and_file() -> None:
    with pytest.raises(EvalInputError) as err:
        pair_documents([doc("a", "Text A."), doc("b", "Text B.")], [doc("a", "Text A.")],
                       gold_name="gold.jsonl", pred_name="pred.jsonl")
    message = str(err.value)
    assert "'b'" in message and "pred.jsonl" in message and "no prediction" in message


def test_text_mismatch_is_an_error() -> None:
    with pytest.raises(EvalInputError) as err:
        pair_documents([doc("a", "Alpha beta.")], [doc("a", "Alpha  beta.")], pred_name="pred.jsonl")
    message = str(err.value)
    assert "'a'" in message and "pred.jsonl" in message and "text differs" in message
    assert "character 6" in message


@pytest.mark.parametrize("bad, expected", [
    (doc("a", label="opinion"), "unknown role 'opinion'"),
    (doc("a", label=None), "missing 'label'"),
    (doc("a", kind="blog"), "type 'blog'"),
])
def test_labels_outside_the_guide_in_predictions(bad: Document, expected: str) -> None:
    with pytest.raises(EvalInputError, match=expected) as err:
        evaluate([doc("a")], [bad], bootstrap=0, pred_name="pred.jsonl")
    assert "pred.jsonl" in str(err.value) and "'a'" in str(err.value)


def test_labels_outside_the_guide_in_gold() -> None:
    with pytest.raises(EvalInputError, match="gold.jsonl: document 'a': passage 0: unknown role 'Claim'"):
        evaluate([doc("a", label="Claim")], [doc("a")], bootstrap=0, gold_name="gold.jsonl")


def test_offsets_outside_the_text() -> None:
    bad = Document("a", "Alpha beta.", {}, [Passage(0, 40, "claim")])
    with pytest.raises(EvalInputError, match=r"offsets \[0, 40\) out of range \[0, 11\]"):
        pair_documents([doc("a")], [bad])


def test_overlapping_passages_are_refused_as_validate_refuses_them() -> None:
    """Evaluation and ``sourcemark validate`` apply the same rules: overlapping passages cannot be scored."""
    bad = Document("a", "Alpha beta.", {}, [Passage(0, 6, "claim"), Passage(4, 11, "claim")])
    with pytest.raises(EvalInputError, match="before the previous passage ends"):
        pair_documents([doc("a")], [bad])


def test_duplicate_doc_ids() -> None:
    with pytest.raises(EvalInputError, match="'a' occurs more than once"):
        pair_documents([doc("a")], [doc("a"), doc("a")], pred_name="pred.jsonl")


def test_empty_gold_is_an_error() -> None:
    with pytest.raises(EvalInputError, match="gold.jsonl: no gold documents"):
        evaluate([], [doc("a")], bootstrap=0, gold_name="gold.jsonl")
