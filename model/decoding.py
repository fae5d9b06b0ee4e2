"""BIO tag sequences back to character-offset source mentions."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from sourcemark.labels import SOURCE_TYPES


@dataclass
class DecodedMention:
    """A mention span in document offsets, its type and the tagger's confidence."""

    start: int
    end: int
    type: str
    score: float


def _split(tag: int) -> tuple[str, str | None]:
    if tag == 0:
        return "O", None
    kind = SOURCE_TYPES[(tag - 1) // 2]
    return ("B" if (tag - 1) % 2 == 0 else "I"), kind


def decode_mentions(
    tags: Sequence[int], scores: Sequence[float], offsets: Sequence[tuple[int, int]]
) -> list[DecodedMention]:
    """Group tokens into mentions.

    A mention starts at a B tag, or at an I tag that follows O (the tagger's
    mistake, but its evidence for a mention); it continues over I tags and over
    a B tag of the same type right after it (the tagger splitting one name in
    two is far more common than two sources of one type written side by side). Its type is the
    majority type of its tokens, its score their mean tag probability.
    """
    mentions: list[DecodedMention] = []
    current: list[int] = []

    def close() -> None:
        if current:
            kinds = Counter(_split(tags[i])[1] for i in current)
            kind = kinds.most_common(1)[0][0]
            score = sum(scores[i] for i in current) / len(current)
            mentions.append(DecodedMention(offsets[current[0]][0], offsets[current[-1]][1], str(kind), score))
            current.clear()

    for i, tag in enumerate(tags):
        prefix, _ = _split(tag)
        if prefix == "O" or offsets[i][0] < 0:
            close()
            continue
        adjacent = bool(current) and current[-1] == i - 1
        same_type = adjacent and _split(tags[current[-1]])[1] == _split(tag)[1]
        if prefix == "B" and current and not same_type:
            close()
        current.append(i)
    close()
    return mentions
