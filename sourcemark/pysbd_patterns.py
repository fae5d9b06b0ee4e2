"""pysbd with its regular expressions compiled once per process, not once per call.

pysbd builds many of its patterns at run time (one per abbreviation it meets,
formatted into a template) and hands them to the ``re`` module functions, whose
own cache holds 512 patterns. pysbd uses more than that, so the cache kept
evicting them and about half of pysbd's time went to compiling the same
patterns again. Enlarging ``re``'s cache would change a setting of the whole
interpreter; instead pysbd's modules get their own ``re`` here: the same
functions with the same results, over a larger cache of compiled patterns that
only pysbd uses.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import Any

#: Compiled patterns kept for pysbd. Its fixed rules are a few hundred; it also builds patterns from words
#: of the text (about a dozen new ones per article), which least-recently-used eviction drops again, so the
#: cache stays bounded (a few MB) while the rules it reuses stay compiled.
CACHE_SIZE = 4096


class CachedRe:
    """The ``re`` functions pysbd calls, over an LRU cache of compiled patterns; the rest of ``re`` as is."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.compile = functools.lru_cache(maxsize=size)(re.compile)

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)  # flags, escape, error, Pattern, ...

    def sub(self, pattern: Any, repl: Any, string: str, count: int = 0, flags: int = 0) -> str:
        return self.compile(pattern, flags).sub(repl, string, count)

    def subn(self, pattern: Any, repl: Any, string: str, count: int = 0, flags: int = 0) -> tuple[str, int]:
        return self.compile(pattern, flags).subn(repl, string, count)

    def search(self, pattern: Any, string: str, flags: int = 0) -> re.Match[str] | None:
        return self.compile(pattern, flags).search(string)

    def match(self, pattern: Any, string: str, flags: int = 0) -> re.Match[str] | None:
        return self.compile(pattern, flags).match(string)

    def fullmatch(self, pattern: Any, string: str, flags: int = 0) -> re.Match[str] | None:
        return self.compile(pattern, flags).fullmatch(string)

    def findall(self, pattern: Any, string: str, flags: int = 0) -> list[Any]:
        return self.compile(pattern, flags).findall(string)

    def finditer(self, pattern: Any, string: str, flags: int = 0) -> Any:
        return self.compile(pattern, flags).finditer(string)

    def split(self, pattern: Any, string: str, maxsplit: int = 0, flags: int = 0) -> list[Any]:
        return self.compile(pattern, flags).split(string, maxsplit)


PYSBD_RE = CachedRe()

#: pysbd's own abbreviation search, kept when :func:`install` replaces it (the tests compare the two).
pysbd_abbreviation_search: Any = None


def install() -> None:
    """Point every loaded pysbd module that imported ``re`` at the cached one, and give pysbd's
    abbreviation search its word-start check (idempotent)."""
    import pysbd  # noqa: F401 - loads pysbd's modules, so they are in sys.modules below
    from pysbd.abbreviation_replacer import AbbreviationReplacer

    for name, module in list(sys.modules.items()):
        if (name == "pysbd" or name.startswith("pysbd.")) and getattr(module, "re", None) in (re, PYSBD_RE):
            module.re = PYSBD_RE  # type: ignore[attr-defined]
    global pysbd_abbreviation_search
    if AbbreviationReplacer.search_for_abbreviations_in_string is not search_for_abbreviations_in_string:
        pysbd_abbreviation_search = AbbreviationReplacer.search_for_abbreviations_in_string
        AbbreviationReplacer.search_for_abbreviations_in_string = search_for_abbreviations_in_string


#: An abbreviation that is a plain word: pysbd's pattern for it matches only its own letters.
_PLAIN_WORD = re.compile(r"[a-z0-9]+")
_WHITESPACE = re.compile(r"\s")


def search_for_abbreviations_in_string(replacer: Any, text: str) -> str:
    """pysbd's ``AbbreviationReplacer.search_for_abbreviations_in_string``, with a cheaper test first.

    For each of its ~190 abbreviations found anywhere in the lowered text as a
    substring ("a", "al", "ave" are inside most articles), pysbd runs a
    case-insensitive ``findall`` for the abbreviation at a word start over the
    whole text: half of segmentation time, nearly always finding nothing. A
    plain-word abbreviation can only match where it follows whitespace or the
    start, which one ``in`` over the text with whitespace made spaces answers;
    only then does the pysbd logic below run (abbreviations with a dot, a
    pattern to pysbd, always take it). The text's edits in the loop only turn
    dots into pysbd's marker, so the check on the original text holds, and a
    substitution already run for the same match finds nothing new.
    """
    lowered = text.lower()
    word_starts = " " + _WHITESPACE.sub(" ", lowered)
    for abbr in replacer.lang.Abbreviation.ABBREVIATIONS:
        stripped = abbr.strip()
        if stripped not in lowered:
            continue
        if _PLAIN_WORD.fullmatch(stripped) and " " + stripped not in word_starts:
            continue
        matches = PYSBD_RE.findall(r"(?:^|\s|\r|\n){}".format(stripped), text, flags=re.IGNORECASE)
        if not matches:
            continue
        next_chars = PYSBD_RE.findall(r"(?<={" + str(re.escape(stripped)) + "} ).{1}", text)
        prepositive = stripped in replacer.lang.Abbreviation.PREPOSITIVE_ABBREVIATIONS
        replaced: set[str] = set()
        for index, match in enumerate(matches):
            # pysbd replaces (a substitution over the whole text) when the next word is not capitalised
            # or the abbreviation is prepositive; which substitution depends on the match alone, and a
            # substitution only turns dots into its marker, so running it again for a repeated match
            # ("a" is found at every " a") changes nothing: each distinct match runs once.
            next_char = next_chars[index] if index < len(next_chars) else ""
            if match in replaced or (next_char.isupper() and not prepositive):
                continue
            text = replacer.scan_for_replacements(text, match, index, next_chars)
            replaced.add(match)
    return text


#: What pysbd's ``\s*`` suffix matches after a sentence.
_TRAILING_SPACE = re.compile(r"\s*")


def sentences(splitter: Any, text: str) -> list[str]:
    """What ``splitter.segment(text)`` returns (``clean=False``), without a pattern per sentence.

    To give back the original text of each sentence, pysbd compiles
    ``re.escape(sentence) + r"\\s*"`` for every sentence and scans the whole
    text with it: a pattern nobody will use again per sentence (a third of
    segmentation time) and a scan that grows with the text. This finds the
    same matches with ``str.find``: for each processed sentence, the first
    non-overlapping occurrence, with the whitespace after it, that ends past
    the previous sentence; a sentence not found is dropped, as pysbd drops it.
    The splitter's own state is not touched, so one splitter may serve threads.
    """
    if not text:
        return []
    out: list[str] = []
    prior_end = 0
    for sentence in splitter.processor(text).process():
        pos = text.find(sentence)
        while pos != -1:
            end = _TRAILING_SPACE.match(text, pos + len(sentence)).end()  # type: ignore[union-attr]
            if end > prior_end:
                out.append(text[pos:end])
                prior_end = end
                break
            pos = text.find(sentence, end if end > pos else pos + 1)
    return out
