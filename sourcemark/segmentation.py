"""Split a document into passages (ANNOTATION_GUIDE.md section 1) and find the comment section.

Editorial lines are split into sentences by pysbd; lines in the comment
section and page furniture stay whole, one passage a line. Each passage gets
a ``section`` field (``body`` or ``comments``) so the model can tell a
reader's words from the author's. Offsets index the text exactly as read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator

from sourcemark.documents import Document, Passage
from sourcemark.readers import COMMENT_START_KEY

_COMMENT_HEADER = re.compile(
    r"""^\s*(
        \d[\d,.]*\s+(comments?|responses?|replies|thoughts?\s+on\b.*|reactions?)\s*:?\s*$   # "12 Comments", "5 thoughts on “...”"
      | (\d+\s+)?comments?\s*(\(\d+\))?\s*:?$                                              # "Comments", "Comments (4)"
      | (one|two|three|four|five|six|seven|eight|nine|ten)\s+(comments?|responses?|thoughts?\s+on\b.*)$
      | leave\s+a\s+(reply|comment).*                                                     # WordPress form
      | load\s+more\s+comments.*
      | (show|view)\s+(all\s+)?\d*\s*comments?.*
      | reader\s+comments?\s*:?$
      | (most\s+relevant|all|top|newest|oldest|latest)(\s+comments?)?\s*:?$                  # Facebook / Disqus sort bars
      | comments?\s*[·•:|]\s*\d[\d,.]*k?$                                                    # "Comments · 94"
      | \d[\d,.]*\s+comments?\s+(so\s+far|and\s+counting)$
      | join\s+the\s+discussion.*
      | what\s+do\s+you\s+think\??$
    )\s*$""",
    re.I | re.X,
)
_PINGBACK = re.compile(r"^\s*(\d+\.\s*)?(pingback|trackback)\s*:", re.I)
_SAYS = re.compile(r"^\s*\S.{0,60}\s(says|said|wrote|commented)\s*:\s*$", re.I)
_DISQUS_CHROME = re.compile(
    r"^\s*(•?\s*\d+\s+(seconds?|minutes?|hours?|days?|weeks?|months?|years?)\s+ago|reply|share\s*›?|"
    r"like\s*·\s*reply.*|\d+\s*\^?\s*\|\s*v\s*•?\s*reply.*|upvote|downvote|see\s+more)\s*$",
    re.I,
)


@dataclass(frozen=True)
class Line:
    """A non-blank line of the text: its span without the line break or edge spaces."""

    start: int
    end: int


def iter_lines(text: str) -> Iterator[Line]:
    """Yield each non-blank line's span, stripped of surrounding whitespace (``\\r`` included)."""
    position = 0
    for raw in text.splitlines(keepends=True):
        content = raw.rstrip("\r\n")
        stripped = content.strip()
        if stripped:
            lead = len(content) - len(content.lstrip())
            yield Line(position + lead, position + lead + len(stripped))
        position += len(raw)


def opens_comment_section(line: str) -> bool:
    """Does this line start a comment section ("12 Comments", "Leave a Reply", "X says:", a pingback)?"""
    return bool(_COMMENT_HEADER.match(line) or _PINGBACK.match(line) or _SAYS.match(line))


def is_comment_marker(line: str) -> bool:
    """Does this line open a comment section or belong to its chrome ("Reply", "3 hours ago")?

    Chrome alone never opens a section: a "Share" button line also sits under
    many article bodies.
    """
    return opens_comment_section(line) or bool(_DISQUS_CHROME.match(line))


def find_comment_start(text: str, lines: list[Line], meta: dict | None = None) -> int | None:
    """The offset where the comment section starts, or None.

    A reader that knows the structure (HTML) stores it in ``meta``; otherwise
    the first comment marker line counts, but only in the later part of the
    text, because a body sentence rarely looks like "12 Comments" while a
    comment section never opens an article.
    """
    if meta and isinstance(meta.get(COMMENT_START_KEY), int):
        return meta[COMMENT_START_KEY]
    floor = int(len(text) * 0.25)
    for line in lines:
        if line.start >= floor and opens_comment_section(text[line.start : line.end]):
            return line.start
    return None


#: pysbd builds one regex per abbreviation it meets and compiles it through ``re``'s cache, which
#: holds 512 patterns: more than that per article and every call recompiles (8,400 compilations for
#: 100 articles). A larger cache cut segmentation from 1.9 s to 1.4 s per 100 FA-KES articles.
_RE_CACHE_SIZE = 8192


@lru_cache(maxsize=1)
def _splitter():  # type: ignore[no-untyped-def]
    import re

    import pysbd

    if getattr(re, "_MAXCACHE", _RE_CACHE_SIZE) < _RE_CACHE_SIZE:  # a CPython detail: skipped if it goes
        re._MAXCACHE = _RE_CACHE_SIZE
    return pysbd.Segmenter(language="en", clean=False)


_OPEN_QUOTES = "“\"„«‘'”"
_CLOSE_QUOTES = "”\"»’'“"


def _inside_quote(previous: str, text: str, start: int, end: int) -> bool:
    """Does a quotation left open in ``previous`` close somewhere in ``text[start:end]`` (the line from here on)?

    Scraped text often loses a closing quote (FA-KES articles do); without this
    check one stray opening quote would swallow the rest of the paragraph into
    a single passage. The line is searched in place, and only after an open
    quotation: copying the rest of a long line for every sentence would make
    segmentation quadratic.
    """
    if previous.count("“") > previous.count("”"):
        return text.find("”", start, end) >= 0
    return previous.count('"') % 2 == 1 and text.find('"', start, end) >= 0


def _continues_quote(previous: str, sentence: str) -> bool:
    """Guide rule 3a.4: a sentence that is only a continued quotation joins its neighbour."""
    s = sentence.rstrip(".,;:!? ")
    return (
        len(s) > 1
        and s[0] in _OPEN_QUOTES
        and s[-1] in _CLOSE_QUOTES
        and s[1:-1].count("“") == 0
        and any(q in previous for q in "“”\"")
    )


def _merge(text: str, spans: list[tuple[int, int]], joins: Callable[[str, str, int], bool]) -> list[tuple[int, int]]:
    """Join each span to the one before it when ``joins(previous_text, text, start)`` says so."""
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and joins(text[merged[-1][0] : merged[-1][1]], text[s:e], s):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` in document offsets.

    pysbd cuts inside quotations and leaves stray closing quotes alone; the
    guide keeps a multi-sentence quotation with its attribution (rule 3a.4),
    so two merge passes follow: punctuation-only pieces join the sentence
    before them, then sentences inside an open quotation or continuing one
    join theirs.
    """
    chunk = text[start:end]
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sentence in _splitter().segment(chunk):
        piece = sentence.strip()
        if not piece:
            continue
        found = chunk.find(piece, cursor)
        if found < 0:  # pysbd altered the text: keep the rest of the line whole
            spans.append((start + cursor, end))
            break
        spans.append((start + found, start + found + len(piece)))
        cursor = found + len(piece)
    if spans and spans[-1][1] < end and text[spans[-1][1] : end].strip():
        spans[-1] = (spans[-1][0], end)
    spans = _merge(text, spans, lambda _prev, cur, _start: not any(ch.isalnum() for ch in cur))
    spans = _merge(text, spans,
                   lambda prev, cur, at: _inside_quote(prev, text, at, end) or _continues_quote(prev, cur))
    return spans or [(start, end)]


def segment_text(text: str, meta: dict | None = None) -> list[Passage]:
    """Label-less passages with ``section`` set, sorted and non-overlapping."""
    lines = list(iter_lines(text))
    comment_start = find_comment_start(text, lines, meta)
    passages: list[Passage] = []
    for line in lines:
        in_comments = comment_start is not None and line.end > comment_start
        if in_comments:
            spans = [(line.start, line.end)]
        else:
            spans = split_sentences(text, line.start, line.end)
        section = "comments" if in_comments else "body"
        passages.extend(Passage(s, e, extra={"section": section}) for s, e in spans)
    return passages


def segment(doc: Document) -> Document:
    """Return the document with its passages replaced by the segmenter's."""
    doc.passages = segment_text(doc.text, doc.meta)
    return doc


def mark_sections(doc: Document) -> Document:
    """Give passages that lack one a ``section`` flag, from the detected comment section.

    Gold and corpus passages are cut by hand and carry no flag; the model needs
    the same flag at training time as the segmenter gives at prediction time.
    """
    if all(p.section for p in doc.passages):
        return doc
    comment_start = find_comment_start(doc.text, list(iter_lines(doc.text)), doc.meta)
    for p in doc.passages:
        if not p.section:
            in_comments = comment_start is not None and p.end > comment_start
            p.extra["section"] = "comments" if in_comments else "body"
    return doc
