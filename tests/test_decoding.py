"""Word-level decoding of tag probabilities into mentions."""

from __future__ import annotations

import numpy as np

from sourcemark.labels import SOURCE_TYPES
from sourcemark.model.decoding import decode_mentions, recall_known_sources
from sourcemark.model.encoding import TAGS, tag_id


def _probs(rows: list[dict[str, float]]) -> np.ndarray:
    """One row per token: the given tag probabilities, the rest of the mass on O."""
    out = np.zeros((len(rows), len(TAGS)))
    for i, row in enumerate(rows):
        for tag, p in row.items():
            out[i, TAGS.index(tag)] = p
        out[i, 0] = 1.0 - sum(row.values())
    return out


def _tokens(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    offsets, at = [], 0
    for piece in pieces:
        at = text.index(piece, at)
        offsets.append((at, at + len(piece)))
        at += len(piece)
    return offsets


def test_a_word_split_by_the_tagger_is_one_mention_of_one_type() -> None:
    text = "Fighters from Ahrar al-Sham said so."
    pieces = ["Fighters", "from", "Ah", "rar", "al", "-", "Sham", "said", "so", "."]
    rows = [{}, {}, {"B-armed_group": 0.4}, {"I-armed_group": 0.8}, {"I-news_media": 0.7},
            {"I-armed_group": 0.6}, {"I-armed_group": 0.9}, {}, {}, {}]
    mentions = decode_mentions(_probs(rows), _tokens(text, pieces), text)
    assert [(text[m.start:m.end], m.type) for m in mentions] == [("Ahrar al-Sham", "armed_group")]


def test_punctuation_is_trimmed_and_separate_runs_stay_separate() -> None:
    text = "(SANA) said, and Amaq added."
    pieces = ["(", "SANA", ")", "said", ",", "and", "Amaq", "added", "."]
    rows = [{"B-state_media": 0.9}, {"B-state_media": 0.9}, {"I-state_media": 0.9}, {}, {}, {},
            {"B-armed_group": 0.7}, {}, {}]
    mentions = decode_mentions(_probs(rows), _tokens(text, pieces), text)
    assert [(text[m.start:m.end], m.type) for m in mentions] == [("SANA", "state_media"), ("Amaq", "armed_group")]
    assert abs(mentions[1].score - 0.7) < 1e-9
    assert [text[m.start:m.end] for m in decode_mentions(_probs(rows), _tokens(text, pieces), text, 0.8)] == ["SANA"]


def test_o_wins_when_mass_is_spread_thin_and_no_tokens_means_no_mentions() -> None:
    text = "Officials"
    spread = {f"B-{t}": 0.05 for t in SOURCE_TYPES[:8]}
    assert decode_mentions(_probs([spread]), [(0, 9)], text) == []
    assert decode_mentions(np.zeros((0, len(TAGS))), [], text) == []
    assert tag_id("B", "armed_group") == TAGS.index("B-armed_group")


def test_a_known_outlet_the_tagger_leaned_towards_is_recalled() -> None:
    text = "Airwars said the strike hit homes, and SANA denied it."
    pieces = ["Airwars", "said", "the", "strike", "hit", "homes", ",", "and", "SANA", "denied", "it", "."]
    offsets = _tokens(text, pieces)
    # "Airwars" under O by a little, "SANA" hardly a mention word at all
    rows = [{"B-monitor_group": 0.35}, {}, {}, {}, {}, {}, {}, {}, {"B-state_media": 0.05}, {}, {}, {}]
    probs = _probs(rows)
    found = decode_mentions(probs, offsets, text)
    assert found == []
    known = [(0, 7, "monitor_group"), (39, 43, "state_media")]
    recalled = recall_known_sources(probs, offsets, known, found)
    assert [(text[m.start:m.end], m.type) for m in recalled] == [("Airwars", "monitor_group")]
    assert abs(recalled[0].score - 0.35) < 1e-9
    # a name already inside a decoded mention is not added twice
    assert recall_known_sources(probs, offsets, known, recalled) == []


def test_a_passage_with_no_mention_word_decodes_to_nothing_quickly() -> None:
    text = "Nothing here names a source."
    pieces = ["Nothing", "here", "names", "a", "source", "."]
    rows = [{"B-official": 0.49}, {}, {}, {}, {}, {}]
    assert decode_mentions(_probs(rows), _tokens(text, pieces), text) == []
    rows[0] = {"B-official": 0.51}  # just over the line: the word is marked
    assert [m.type for m in decode_mentions(_probs(rows), _tokens(text, pieces), text)] == ["official"]
