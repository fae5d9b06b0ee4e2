"""Documents to model inputs: windows of whole passages, each marked with its token span.

By default every passage is alone in its window: its role is decided from its
own text plus the structure features (:mod:`sourcemark.model.features`), which
already say where it sits. Packed windows are the alternative: the document's
passages, in order, fill windows of up to ``max_length`` tokens, a run of
*target* passages (predicted and trained on) with a few passages of context
either side (encoded, not predicted). Either way each passage ends with
``[SEP]`` so the encoder sees the boundaries, every passage is a target
exactly once, and one forward pass serves the role head and the source tagger.

The window settings' defaults are defined here, once: the model's saved
settings and the training configuration take theirs from these constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from sourcemark.documents import Document
from sourcemark.labels import ROLES, SOURCE_TYPES
from sourcemark.model.features import document_features

IGNORE = -100

#: Word pieces per window, [CLS] and the [SEP]s included: room for nearly any passage, while attention stays cheap.
MAX_LENGTH = 256
#: Word pieces of neighbouring text either side of the targets in a packed window.
CONTEXT = 32
#: Each passage alone in its window rather than packed with neighbouring text: isolated passages
#: scored better on the corpus dev split (bench/context_ablation.py) and give the optimiser more steps.
ISOLATE_PASSAGES = True
#: With isolated passages, the neighbouring text as a second segment after the passage (token type 1):
#: one window per passage, as isolated ones, so the same number of optimiser steps; off by default
#: (bench/context_ablation.py measures it).
CONTEXT_SEGMENT = False

#: BIO tags: O, then B-/I- for every source type, in SOURCE_TYPES order.
TAGS: tuple[str, ...] = ("O",) + tuple(f"{p}-{t}" for t in SOURCE_TYPES for p in ("B", "I"))
ROLE_INDEX = {r: i for i, r in enumerate(ROLES)}


def tag_id(prefix: str, kind: str) -> int:
    """Index of ``B-kind`` or ``I-kind`` in TAGS."""
    return 1 + 2 * SOURCE_TYPES.index(kind) + (0 if prefix == "B" else 1)


@dataclass
class TokenizedPassage:
    """A passage's word-piece ids, their character offsets in the document, gold tags, segment type.

    ``segment`` is 1 for passages in the comment section, 0 elsewhere: it is
    fed to the encoder as the token type, a per-token signal the pretrained
    model already knows ("a different segment of text").
    """

    ids: list[int]
    offsets: list[tuple[int, int]]
    tags: list[int]
    segment: int = 0


@dataclass
class Window:
    """One encoder input: token ids, the target passages' token spans, labels and offsets."""

    doc_index: int
    input_ids: list[int]
    token_offsets: list[tuple[int, int]]
    passage_index: list[int] = field(default_factory=list)
    passage_spans: list[tuple[int, int]] = field(default_factory=list)
    features: list[list[float]] = field(default_factory=list)
    roles: list[int] = field(default_factory=list)
    tags: list[int] = field(default_factory=list)
    token_types: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_index": self.doc_index,
            "input_ids": self.input_ids,
            "token_offsets": [list(o) for o in self.token_offsets],
            "passage_index": self.passage_index,
            "passage_spans": [list(s) for s in self.passage_spans],
            "features": self.features,
            "roles": self.roles,
            "tags": self.tags,
            "token_types": self.token_types,
        }


def _passage_tags(offsets: Sequence[tuple[int, int]], mentions: Sequence[Any]) -> list[int]:
    tags = [0] * len(offsets)
    for mention in mentions:
        first = True
        for i, (a, b) in enumerate(offsets):
            if a < mention.end and b > mention.start:
                tags[i] = tag_id("B" if first else "I", mention.type)
                first = False
    return tags


def tokenize_passages(doc: Document, tokenizer: Any, max_tokens: int) -> list[TokenizedPassage]:
    """Word pieces of every passage, with document offsets and gold BIO tags."""
    texts = [doc.text[p.start : p.end] for p in doc.passages]
    if not texts:
        return []
    enc = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True,
                    truncation=True, max_length=max_tokens)
    out = []
    for passage, ids, offsets in zip(doc.passages, enc["input_ids"], enc["offset_mapping"]):
        if not ids:
            ids, offsets = [tokenizer.unk_token_id], [(0, passage.end - passage.start)]
        doc_offsets = [(passage.start + a, passage.start + b) for a, b in offsets]
        out.append(TokenizedPassage(list(ids), doc_offsets, _passage_tags(doc_offsets, passage.sources),
                                    int(passage.section == "comments")))
    return out


def _context(pieces: list[TokenizedPassage], budget: int,
             left: bool) -> tuple[list[int], list[tuple[int, int]], list[int]]:
    ids: list[int] = []
    offsets: list[tuple[int, int]] = []
    types: list[int] = []
    for piece in pieces:
        chunk_ids, chunk_off = piece.ids, piece.offsets
        room = budget - len(ids) - 1
        if room <= 0:
            break
        if len(chunk_ids) > room:
            chunk_ids = chunk_ids[-room:] if left else chunk_ids[:room]
            chunk_off = chunk_off[-room:] if left else chunk_off[:room]
        chunk_types = [piece.segment] * (len(chunk_ids) + 1)
        if left:
            ids = chunk_ids + [-1] + ids
            offsets = chunk_off + [(-1, -1)] + offsets
            types = chunk_types + types
        else:
            ids = ids + chunk_ids + [-1]
            offsets = offsets + chunk_off + [(-1, -1)]
            types = types + chunk_types
    return ids, offsets, types


def passage_token_limit(max_length: int, context: int, isolate: bool, context_segment: bool = CONTEXT_SEGMENT) -> int:
    """The most word pieces of one passage a window holds; a longer passage is truncated.

    A window holds [CLS], the context either side (none when isolated without
    a context segment), and the passage's own [SEP] and the closing [SEP].
    """
    return max_length - 3 - 2 * (0 if isolate and not context_segment else context)


def _paired_windows(doc: Document, doc_index: int, pieces: list[TokenizedPassage], features: list[list[float]],
                    context: int, cls: int, sep: int) -> list[Window]:
    """One window per passage: ``[CLS] passage [SEP] neighbours [SEP]``, the neighbours as token type 1.

    The encoder reads the passage as the first segment of a sentence pair, as
    it was pre-trained to, and its neighbours (``context`` word pieces either
    side, before then after) as the second: the role and tags are still the
    passage's own, the neighbours only inform them.
    """
    windows = []
    for k, piece in enumerate(pieces):
        left_ids, left_off, _ = _context(pieces[:k][::-1], context, left=True)
        right_ids, right_off, _ = _context(pieces[k + 1:], context, left=False)
        neighbours = left_ids + right_ids
        window = Window(doc_index, [cls] + piece.ids + [-1] + neighbours + [-1],
                        [(-1, -1)] + piece.offsets + [(-1, -1)] + left_off + right_off + [(-1, -1)])
        window.tags = [IGNORE] + piece.tags + [IGNORE] * (len(neighbours) + 2)
        window.token_types = [0] + [piece.segment] * (len(piece.ids) + 1) + [1] * (len(neighbours) + 1)
        window.passage_index, window.passage_spans = [k], [(1, 1 + len(piece.ids))]
        window.features = [features[k]]
        label = doc.passages[k].label
        window.roles = [ROLE_INDEX[label] if label in ROLE_INDEX else IGNORE]
        window.input_ids = [sep if t == -1 else t for t in window.input_ids]
        windows.append(window)
    return windows


def build_windows(
    doc: Document,
    doc_index: int,
    tokenizer: Any,
    max_length: int = MAX_LENGTH,
    context: int = CONTEXT,
    isolate: bool = ISOLATE_PASSAGES,
    context_segment: bool = CONTEXT_SEGMENT,
) -> list[Window]:
    """Cut a document's passages into windows; every passage is a target exactly once.

    ``isolate`` puts each passage alone in its window, with no context or, with
    ``context_segment``, with ``context`` word pieces of its neighbours either
    side as a second segment; otherwise passages are packed with ``context``
    word pieces of their neighbours either side.
    """
    sep, cls = tokenizer.sep_token_id, tokenizer.cls_token_id
    limit = passage_token_limit(max_length, context, isolate, context_segment)
    pieces = tokenize_passages(doc, tokenizer, max_tokens=limit)
    features = document_features(doc) if doc.passages else []
    if isolate and context_segment:
        return _paired_windows(doc, doc_index, pieces, features, context, cls, sep)
    if isolate:
        context = 0
    target_budget = max_length - 2 - 2 * context
    windows: list[Window] = []
    i = 0
    while i < len(pieces):
        j, used = i, 0
        while j < len(pieces) and (j == i or (not isolate and used + len(pieces[j].ids) + 1 <= target_budget)):
            used += len(pieces[j].ids) + 1
            j += 1
        left_ids, left_off, left_types = _context(pieces[:i][::-1], context, left=True)
        right_ids, right_off, right_types = _context(pieces[j:], context, left=False)
        window = Window(doc_index, [cls] + left_ids, [(-1, -1)] + left_off)
        window.tags = [IGNORE] * len(window.input_ids)
        window.token_types = [0] + left_types
        for k in range(i, j):
            start = len(window.input_ids)
            window.input_ids += pieces[k].ids + [-1]
            window.token_offsets += pieces[k].offsets + [(-1, -1)]
            window.tags += pieces[k].tags + [IGNORE]
            window.token_types += [pieces[k].segment] * (len(pieces[k].ids) + 1)
            window.passage_index.append(k)
            window.passage_spans.append((start, start + len(pieces[k].ids)))
            window.features.append(features[k])
            label = doc.passages[k].label
            window.roles.append(ROLE_INDEX[label] if label in ROLE_INDEX else IGNORE)
        window.input_ids += right_ids + [-1]
        window.token_offsets += right_off + [(-1, -1)]
        window.tags += [IGNORE] * (len(right_ids) + 1)
        window.token_types += right_types + [0]
        window.input_ids = [sep if t == -1 else t for t in window.input_ids]
        windows.append(window)
        i = j
    return windows
