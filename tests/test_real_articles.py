"""The labelled real articles: valid, held out as fixed, and anchored on the exact dataset text."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sourcemark.bundled import (REAL_ARTICLES_FILE, bundled_dev_sets, bundled_training_documents, real_dev_ids,
                                split_real_articles)
from sourcemark.markup import compile_markup
from sourcemark.training.real_articles import AnchorError, anchor
from sourcemark.validation import ERROR, validate_file


def test_real_articles_validate() -> None:
    assert [str(p) for p in validate_file(REAL_ARTICLES_FILE) if p.level == ERROR] == []


def test_real_dev_split_is_fixed_spread_and_never_trained_on() -> None:
    train, dev = split_real_articles()
    assert {d.doc_id for d in dev} == real_dev_ids() and len(dev) >= 50
    assert len(train) >= 150 and not {d.doc_id for d in train} & real_dev_ids()
    assert len(Counter(d.meta["outlet"] for d in dev)) == 15  # every outlet of the dataset
    training, _ = bundled_training_documents()
    trained_ids = {d.doc_id for d in training}
    assert {d.doc_id for d in train} <= trained_ids and not trained_ids & real_dev_ids()
    real_dev = {d.doc_id for d in bundled_dev_sets()["real_dev"]}
    assert real_dev_ids() <= real_dev and not real_dev & trained_ids


def test_real_articles_keep_the_dataset_text_as_one_paragraph() -> None:
    _, dev = split_real_articles()
    for doc in dev:
        assert "\n" not in doc.text.strip() and doc.meta["license"] == "CC BY 4.0"
        covered = "".join(doc.text[p.start:p.end] for p in doc.passages)
        assert len("".join(covered.split())) == len("".join(doc.text.split()))  # every word is in a passage


TEXT = "Tue 05 Jul 2016 Bomb kills 16 in Hasaka monitor says. The blast hit a bakery. --Reuters"


def _labelled(body: str) -> str:
    return "@doc_id: t1\n---\n" + body + "\n"


def test_anchor_places_passages_written_one_per_line_on_the_raw_text() -> None:
    compiled = compile_markup(_labelled(
        "<O>Tue 05 Jul 2016</O>\n<A>Bomb kills 16 in Hasaka {monitor|monitor_group} says.</A>\n"
        "<C>The blast hit a bakery.</C>\n<O>--Reuters</O>"))
    doc = anchor(compiled, TEXT, "t1.sm")
    assert doc.text == TEXT
    assert [doc.text[p.start:p.end] for p in doc.passages] == [
        "Tue 05 Jul 2016", "Bomb kills 16 in Hasaka monitor says.", "The blast hit a bakery.", "--Reuters"]
    mention = doc.passages[1].sources[0]
    assert doc.text[mention.start:mention.end] == "monitor" and mention.type == "monitor_group"


@pytest.mark.parametrize("body, expected", [
    ("<O>Tue 05 Jul 2016</O>\n<C>Bomb kills 16 in Hasaka monitor said.</C>", "character 34 of the passage differs"),
    ("<C>Bomb kills 16 in Hasaka monitor says.</C>", "untagged text 'Tue 05 Jul 2016 '"),
    ("<O>Tue 05 Jul 2016</O>", "text after the last passage is untagged"),
])
def test_anchor_refuses_changed_or_untagged_text(body: str, expected: str) -> None:
    with pytest.raises(AnchorError, match=expected):
        anchor(compile_markup(_labelled(body)), TEXT, "t1.sm")
