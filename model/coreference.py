"""One source, one type: a mention that refers back takes the type of the source it refers to.

The guide types a later mention of a source ("he", "it", "the spokesman",
"the centre", a surname after the full name) as the source it refers to
(rules 7 and 14). The tagger sees one passage at a time, so it types such a
mention from its own few words: "he" or "The spokesman" alone say nothing
about the speaker's affiliation and come out as whatever type is most common.
The first mention of a source usually carries its affiliation ("spokesman
Colonel Chris Garver", "Turkey's health ministry"), so its type is the better
guess, and this module copies it onto the later mentions that point back.

Which earlier mention a later one points to:

* a surname or a shorter form of a name (one to three capitalised words) takes
  the latest earlier mention in the document that holds a full name ending with
  the same words ("Tabler" after "Andrew Tabler, a senior fellow at ...");
* a personal pronoun ("he", "she") takes the latest mention in the same or
  the previous passage that can be a person: outlets, platforms and unnamed
  sources are skipped, since "X told Reuters. He said" refers to X;
* any other referring phrase ("it", "they", "the group", "the source", "the
  statement", "this official") takes the latest mention in the same or the
  previous passage, as rule 7 says.

A mention with no antecedent keeps the tagger's type: rule 7's fallback
(`unnamed`) applies when the text never identifies the source, which a
missing match here does not prove.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from sourcemark.documents import Document, SourceMention

#: Types that name a medium or no one: never the antecedent of "he" or "she".
NOT_A_PERSON = frozenset({"news_media", "state_media", "telegram_channel", "social_media", "unnamed"})

PERSONAL_PRONOUNS = frozenset({"he", "she", "him", "her"})
OTHER_PRONOUNS = frozenset({"it", "they", "them", "we"})
#: Words that open a phrase pointing back to a source named before ("the group", "this official").
REFERRING_DETERMINERS = frozenset({"the", "this", "that", "these", "those"})
#: Nouns that point back without saying what kind of source it is. Nouns that do ("the monitor", "the
#: ministry", "the activist", "the doctor") are left to the tagger, which types them from the word.
PERSON_HEADS = frozenset({"source", "sources", "spokesman", "spokeswoman", "spokesperson", "official",
                          "officials", "man", "woman", "person"})
GENERIC_HEADS = PERSON_HEADS | frozenset({"group", "organisation", "organization", "statement", "page",
                                          "channel", "account", "body", "agency", "movement", "report"})
#: How many passages back a pronoun or referring phrase looks for its antecedent (rule 7: the same or
#: the previous sentence).
LOOKBACK_PASSAGES = 1

_WORD = re.compile(r"[\w'’.-]+")


@dataclass
class _Seen:
    """An earlier mention: where it is (passage index) and what it says."""

    passage: int
    mention: SourceMention
    words: tuple[str, ...]


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip(".") for w in _WORD.findall(text) if w.strip("."))


def _is_name(words: Sequence[str]) -> bool:
    """One to three capitalised words: a surname or a short form of a name."""
    return 1 <= len(words) <= 3 and all(w[:1].isupper() for w in words)


def _referring_head(words: Sequence[str]) -> str | None:
    """The noun of a determiner plus generic noun ("the spokesman", "the same source"), else None.

    Any other word between them says what kind of source it is ("the rights group"), which the
    tagger reads itself.
    """
    if words[0].casefold() in REFERRING_DETERMINERS and words[-1] in GENERIC_HEADS and (
            len(words) == 2 or len(words) == 3 and words[1] == "same"):
        return words[-1]
    return None


def _names_in(words: Sequence[str], key: tuple[str, ...]) -> bool:
    """Whether ``key`` ends a full name inside ``words``: after a capitalised word, before the end or a
    lower-case word ("Andrew Tabler, a senior fellow" holds "Tabler"; "a teacher in Garver" and
    "Tabler Institute" do not)."""
    folded = [w.casefold() for w in words]
    n = len(key)
    for i in range(1, len(words) - n + 1):
        if tuple(folded[i : i + n]) == key and words[i - 1][:1].isupper() and (
                i + n == len(words) or not words[i + n][:1].isupper()):
            return True
    return False


def _antecedent_for_name(words: tuple[str, ...], seen: Sequence[_Seen]) -> _Seen | None:
    key = tuple(w.casefold() for w in words)
    for earlier in reversed(seen):
        if _names_in(earlier.words, key):  # a word before the key is needed, so the earlier mention is longer
            return earlier
    return None


def _recent(seen: Sequence[_Seen], passage: int, person: bool) -> _Seen | None:
    for earlier in reversed(seen):
        if earlier.passage < passage - LOOKBACK_PASSAGES:
            return None
        if earlier.mention.type == "unnamed" or person and earlier.mention.type in NOT_A_PERSON:
            continue
        return earlier
    return None


def antecedent(words: tuple[str, ...], passage: int, seen: Sequence[_Seen]) -> _Seen | None:
    """The earlier mention a mention of these words refers back to, if it is a referring form."""
    if not words:
        return None
    first = words[0].casefold()
    if len(words) == 1 and first in PERSONAL_PRONOUNS:
        return _recent(seen, passage, person=True)
    head = _referring_head(words)
    if len(words) == 1 and first in OTHER_PRONOUNS or head is not None:
        return _recent(seen, passage, person=head in PERSON_HEADS)
    if _is_name(words):
        return _antecedent_for_name(words, seen)
    return None


def harmonise_types(doc: Document) -> Document:
    """Give each mention that refers back the type of its antecedent, in document order (in place).

    Types propagate along chains ("Colonel X said" ... "X added" ... "He
    said"): an antecedent's type is the one it was given here.
    """
    seen: list[_Seen] = []
    for k, passage in enumerate(doc.passages):
        for mention in sorted(passage.sources, key=lambda m: m.start):
            words = _words(doc.text[mention.start : mention.end])
            # a mention typed `unnamed` identifies no one ("It was said"); a known outlet keeps its type
            keeps_type = mention.type == "unnamed" or "registry_id" in mention.extra
            earlier = None if keeps_type else antecedent(words, k, seen)
            if earlier is not None and earlier.mention.type != mention.type:
                mention.extra["type_from"] = earlier.mention.start
                mention.type = earlier.mention.type
            seen.append(_Seen(k, mention, words))
    return doc
