"""Mention span edges: the guide's shortest span naming the source, applied after decoding."""

from __future__ import annotations

import pytest

from sourcemark.model.mention_rules import tidy_span


def _span(text: str, phrase: str) -> tuple[int, int]:
    start = text.index(phrase)
    return start, start + len(phrase)


@pytest.mark.parametrize("text, predicted, expected", [
    ("The attack, CNN learned on Monday, was planned.", "CNN learned", "CNN"),
    ("Fighters of HTS and allied groups said so.", "HTS and", "HTS"),
    ("Voice of America (VOA) reported the strike.", "Voice of America (VOA", "Voice of America (VOA)"),
    ("and SOHR said twelve died.", "and SOHR", "SOHR"),
    ("The toll was reportedly higher.", "reportedly", "reportedly"),
])
def test_tidy_span_cuts_run_on_words_and_closes_parentheses(text: str, predicted: str, expected: str) -> None:
    start, end = tidy_span(text, *_span(text, predicted))
    assert text[start:end] == expected


@pytest.mark.parametrize("word", ["The", "some", "first"])
def test_a_lone_determiner_names_no_source(word: str) -> None:
    text = f"{word} said the town fell."
    assert tidy_span(text, 0, len(word)) is None
