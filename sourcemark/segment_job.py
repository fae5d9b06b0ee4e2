"""``sourcemark segment`` as one library call: read inputs, segment each document, write JSONL atomically."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from sourcemark.jsonl import atomic_output, dumps_document
from sourcemark.readers import DEFAULT_MAX_CHARS, ReadError, read_inputs
from sourcemark.segmentation import segment


@dataclass
class SegmentStats:
    """What a segment run did, for the final line and the exit code."""

    written: int = 0
    failed: int = 0


class NothingSegmented(Exception):
    """No input could be read; the output file is left as it was."""


def segment_inputs(inputs: Iterable[str], out: str, max_chars: int = DEFAULT_MAX_CHARS,
                   on_error: Callable[[ReadError], None] = lambda _e: None) -> SegmentStats:
    """Segment every readable document of ``inputs`` into ``out`` (``-``: stdout).

    A document that cannot be read goes to ``on_error`` and the rest go on.
    The output replaces ``out`` only when at least one document was written:
    raises NothingSegmented otherwise, so a run over bad inputs never empties
    a previous result. Stopped (an exception, Ctrl-C or SIGTERM), it leaves
    ``out`` as it was and no temporary file beside it.
    """
    stats = SegmentStats()
    with atomic_output(out) as handle:
        for result in read_inputs(inputs, max_chars=max_chars):
            if isinstance(result, ReadError):
                on_error(result)
                stats.failed += 1
                continue
            handle.write(dumps_document(segment(result)) + "\n")
            stats.written += 1
        if stats.written == 0:
            raise NothingSegmented(f"segmented 0 document(s), {stats.failed} failed")
    return stats
