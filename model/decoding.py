"""Per-token tag probabilities back to character-offset source mentions.

The tagger labels word pieces, but a source is named in whole words: a
decision per word piece splits names ("Ah|rar al-|Sham" came out as three
fragments of two types). So decoding works on words (runs of word pieces with
no space between them): a word's tag distribution is the mean of its pieces',
a mention is a run of words the tagger marks as mention words, and its type is
the one with the most probability mass over the whole run (one name, one type).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from sourcemark.labels import SOURCE_TYPES


#: Registry recall threshold: high enough that a name merely talked about stays unmarked, low enough to
#: add the outlets the tagger leaned towards (chosen on the corpus dev split).
RECALL_MIN_MASS = 0.2


@dataclass
class DecodedMention:
    """A mention span in document offsets, its type and the tagger's confidence."""

    start: int
    end: int
    type: str
    score: float


def _words(offsets: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Token indices grouped into words: a new word starts after a gap (space) or a [SEP]."""
    words: list[list[int]] = []
    for i, (start, _) in enumerate(offsets):
        if start < 0:
            continue
        if words and offsets[words[-1][-1]][1] == start and words[-1][-1] == i - 1:
            words[-1].append(i)
        else:
            words.append([i])
    return words


def _is_punctuation(text: str) -> bool:
    return not any(ch.isalnum() for ch in text)


def _marked_words(by_type: np.ndarray, words: list[list[int]]) -> list[bool]:
    """For each word, whether a source type is more probable than O in the mean of its tokens' distributions.

    One ``reduceat`` over the words' tokens instead of a mean per word: a
    word's tokens are consecutive indices, so its rows are one slice.
    """
    if not words:
        return []
    tokens = np.fromiter((i for word in words for i in word), dtype=np.intp)
    starts = np.cumsum([0] + [len(word) for word in words[:-1]])
    sums = np.add.reduceat(by_type[tokens], starts, axis=0)
    means = sums / np.array([len(word) for word in words], dtype=np.float64)[:, None]
    return (means.argmax(axis=1) != 0).tolist()


def type_probabilities(probs: np.ndarray) -> np.ndarray:
    """``(tokens, 1 + types)``: P(O) then P(B-t) + P(I-t) for every source type."""
    return np.concatenate([probs[:, :1], probs[:, 1::2] + probs[:, 2::2]], axis=1)


def decode_mentions(
    probs: np.ndarray, offsets: Sequence[tuple[int, int]], text: str, min_score: float = 0.0
) -> list[DecodedMention]:
    """Mentions from tag probabilities (``tokens x TAGS``, TAGS order) and token offsets into ``text``.

    A word is a mention word when a source type is more probable than O for
    it; consecutive mention words form one mention, trimmed of punctuation at
    either end. Its score is the mean probability of its type over its tokens;
    mentions scoring under ``min_score`` are dropped.
    """
    if len(offsets) == 0:
        return []
    by_type = type_probabilities(np.asarray(probs, dtype=np.float64))
    if by_type[:, 0].min() >= 0.5:
        # Most passages name no source. If O has half the mass on every token it has at least half
        # on every word's mean, so no word is marked: skip the per-word loop.
        return []
    runs: list[list[int]] = []
    previous_word_marked = False
    words = _words(offsets)
    for word, marked in zip(words, _marked_words(by_type, words)):
        if marked:
            if previous_word_marked:
                runs[-1].extend(word)
            else:
                runs.append(list(word))
        previous_word_marked = marked
    mentions = []
    for run in runs:
        tokens = [i for i in run if not _is_punctuation(text[offsets[i][0] : offsets[i][1]])]
        if not tokens:
            continue
        first, last = tokens[0], tokens[-1]
        span = run[run.index(first) : run.index(last) + 1]
        kind = int(by_type[span, 1:].sum(axis=0).argmax())
        score = float(by_type[span, 1 + kind].mean())
        if score >= min_score:
            mentions.append(DecodedMention(offsets[first][0], offsets[last][1], SOURCE_TYPES[kind], score))
    return mentions


def mention_mass(probs: np.ndarray, offsets: Sequence[tuple[int, int]], start: int, end: int) -> float:
    """Mean probability, over the tokens inside ``[start, end)``, that a token is part of any mention."""
    tokens = [i for i, (a, b) in enumerate(offsets) if a >= 0 and a < end and b > start]
    if not tokens:
        return 0.0
    return float(1.0 - np.asarray(probs, dtype=np.float64)[tokens, 0].mean())


def recall_known_sources(
    probs: np.ndarray,
    offsets: Sequence[tuple[int, int]],
    known: Sequence[tuple[int, int, str]],
    found: Sequence[DecodedMention],
    min_mass: float = RECALL_MIN_MASS,
) -> list[DecodedMention]:
    """Known outlets (registry matches, ``(start, end, type)``) the tagger leaned towards but did not mark.

    Used only inside passages predicted ``attributed_report``, which must
    credit a source: there a registry name that no decoded mention overlaps
    becomes a mention when the tagger gave its tokens at least ``min_mass``
    mention probability (a name merely talked about gets close to none).
    """
    added = []
    for start, end, kind in known:
        if any(m.start < end and m.end > start for m in found):
            continue
        mass = mention_mass(probs, offsets, start, end)
        if mass >= min_mass:
            added.append(DecodedMention(start, end, kind, mass))
    return added
