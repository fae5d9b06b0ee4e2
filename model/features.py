"""Structure features of a passage: cheap facts the segmenter already knows.

A passage's role depends on where it sits (comment section, a short line
with no verb, the first line of the page, a quotation). These numbers are
added to the pooled passage vector so the model can use them at no extra
encoding cost.
"""

from __future__ import annotations

import math

from sourcemark.documents import Document, Passage
from sourcemark.segmentation import is_comment_marker

FEATURE_NAMES: tuple[str, ...] = (
    "in_comments",
    "relative_position",
    "first_passage",
    "whole_line",
    "line_start",
    "short_line_no_period",
    "starts_with_quote",
    "has_quote",
    "comment_marker",
    "log_length",
    "has_digit",
    "bullet",
)
_QUOTES = "“”\"‘’«»"
_BULLETS = "•·-–—*▪►"


def _line_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return line_start, len(text) if line_end < 0 else line_end


def passage_features(doc: Document, passage: Passage, comment_start: int | None) -> list[float]:
    """The FEATURE_NAMES values for one passage, each in [0, 1]."""
    text = doc.text
    piece = text[passage.start : passage.end]
    line_start, line_end = _line_bounds(text, passage.start, passage.end)
    line = text[line_start:line_end].strip()
    in_comments = passage.section == "comments" or (
        passage.section is None and comment_start is not None and passage.start >= comment_start
    )
    words = piece.split()
    return [
        float(in_comments),
        passage.start / max(len(text), 1),
        float(passage.start == doc.passages[0].start) if doc.passages else 0.0,
        float(piece.strip() == line),
        float(not text[line_start : passage.start].strip()),
        float(len(words) <= 8 and not piece.rstrip(_QUOTES + ")").endswith((".", "!", "?"))),
        float(piece[:1] in _QUOTES),
        float(any(q in piece for q in _QUOTES)),
        float(is_comment_marker(piece)),
        min(math.log1p(len(words)) / 5.0, 1.0),
        float(any(ch.isdigit() for ch in piece)),
        float(piece[:1] in _BULLETS),
    ]


def document_features(doc: Document) -> list[list[float]]:
    """Features for every passage of a document, in passage order."""
    comment_start = next((p.start for p in doc.passages if p.section == "comments"), None)
    return [passage_features(doc, p, comment_start) for p in doc.passages]
