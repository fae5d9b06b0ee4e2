"""Segmentation rules for run-on text that :mod:`sourcemark.segmentation` applies to one line.

Text that lost its line breaks (FA-KES, CSV exports) glues page lines together
that the guide cuts one passage a line (section 1, rules 3a.10-12). The rules
here find those lines again where nothing but the words is left to go by:

a list of related headlines after "Related" or "Category News" (news sites
lay out such lists in a box beside or under the article): each headline is a
passage of its own, though nothing but the words shows where one ends.

Each rule looks at one piece of a line once, within a bounded window, so
segmentation stays linear in the text length.
"""

from __future__ import annotations

import re

# --------------------------------------------------------------------------------------------
# Lists of related headlines
# --------------------------------------------------------------------------------------------

#: Furniture that introduces a list of other headlines.
LIST_MARKER = re.compile(
    r"(?:Related(?:\s+(?:News|Coverage|Articles?|Stories|Posts|Content))?|Category\s+[A-Z][a-z]+)")
#: A list of headlines is read for at most this many characters: the search for its end stays bounded.
LIST_CHARS = 900
#: Characters that end a sentence (a headline in a list has none of them).
SENTENCE_END_CHARS = ".!?\"”'"
_WORD = re.compile(r"\S+")
#: Words after which a headline never ends: it would end on an article, preposition or conjunction.
_GLUE = frozenset(
    "of in on at to for the a an and as with from by vs near over after into amid against is are was were "
    "or but via than that says said say tells told its their his her s new more".split())
_DASHES = frozenset("-–—|")
#: Headline lengths in words that cost nothing; shorter or longer ones pay per word.
_HEADLINE_WORDS = (5, 13)
_SENTENCE_MIN_WORDS = 6
_COST_PER_WORD = 0.6
#: Cost of a cut between headlines; evidence that one ends and the next begins pays it back.
_CUT_COST = 1.5
_TOO_SHORT = 100.0
#: A headline longer than this is not looked for (keeps the search small; the last item may be a long sentence).
_MAX_ITEM_WORDS = 30


def _bare(word: str) -> str:
    return word.strip("\"“”'‘’()[]:;,.")


def _starts_item(word: str) -> bool:
    """Can a headline start with this word (a capital, a number or a quotation)?"""
    w = word.lstrip("\"“‘'(")
    return bool(w) and (w[0].isupper() or w[0].isdigit())


def _cut_evidence(words: list[str], k: int) -> float:
    """How strongly the words around position ``k`` say a headline ends before word ``k``."""
    prev, word = words[k - 1], words[k]
    evidence = 0.0
    if prev.endswith(")"):
        evidence += 2.0  # "... (VIDEO) Next headline"
    if k >= 2 and words[k - 2] in _DASHES:
        evidence += 2.0  # "... - Reports Next headline": a one-word credit ends a headline
    elif k >= 3 and words[k - 3] in _DASHES and _starts_item(words[k - 2]):
        evidence += 1.0  # "... - Turkish PM Next headline"
    if prev[:1].islower():
        evidence += 0.5  # a lowercase word may end a headline, a capital start the next
    if word[:1].isdigit() and not prev[:1].isdigit():
        evidence += 0.5  # "... coup 43 civilians dead ...": a headline may open with a number
    return evidence


def _can_cut(words: list[str], k: int) -> bool:
    """May a headline end before word ``k``? Only before a capital or number, never after a preposition."""
    prev, word = words[k - 1], words[k]
    return (_starts_item(word) and word not in _DASHES and prev not in _DASHES
            and _bare(prev).lower() not in _GLUE and not prev.endswith((",", ":")))


def _length_cost(n_words: int, is_sentence: bool) -> float:
    """Cost of one item of ``n_words`` words: headlines have a typical length, a sentence a minimum."""
    if n_words < 3:
        return _TOO_SHORT
    low, high = (_SENTENCE_MIN_WORDS, 10**6) if is_sentence else _HEADLINE_WORDS
    if n_words < low:
        return _COST_PER_WORD * (low - n_words)
    if n_words > high:
        return _COST_PER_WORD * (n_words - high)
    return 0.0


def split_headline_list(text: str, start: int, end: int, ends_in_sentence: bool) -> list[int]:
    """Offsets in ``[start, end)`` where one headline of a run-on list ends and the next begins.

    Headlines lost their line breaks and have no full stop, so the cuts are
    chosen together: each item should be headline-sized (a sentence, if one
    ends the list, may be longer), a cut is allowed only before a capital or a
    number and never after an article or preposition, and a cut after a
    lowercase word, a bracket or a dash credit ("- Reports") costs less. The
    cheapest set of cuts wins (dynamic programming over the list's words).
    """
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]
    words = [text[s:e] for s, e in spans]
    n = len(words)
    if n < 6:
        return []
    counts = [0]
    for w in words:
        counts.append(counts[-1] + (0 if w in _DASHES else 1))
    allowed = [k for k in range(1, n) if _can_cut(words, k)]
    starts = [0] + allowed
    best: dict[int, tuple[float, int]] = {0: (0.0, -1)}
    for k in allowed + [n]:
        is_last = k == n
        options = []
        for j in starts:
            if j >= k or j not in best or (not is_last and k - j > _MAX_ITEM_WORDS):
                continue
            size = counts[k] - counts[j]
            cost = best[j][0] + _length_cost(size, is_last and ends_in_sentence)
            if j > 0:
                cost += _CUT_COST - _cut_evidence(words, j)
            options.append((cost, j))
        if options:
            best[k] = min(options)
    cuts = []
    k = n
    while k > 0:
        k = best[k][1]
        if k > 0:
            cuts.append(spans[k][0])
    return sorted(cuts)
