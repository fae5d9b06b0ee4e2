"""Small helpers for processing documents as a stream."""

from __future__ import annotations

from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def chunked(items: Iterable[T], size: int, first: int | None = None) -> Iterator[list[T]]:
    """Lists of up to ``size`` consecutive items, so a stream of any length is handled in constant memory.

    With ``first``, the first list holds that many items and each next one
    twice as many, up to ``size``: a batch job shows its first results after a
    few items instead of a whole chunk, and still runs in full chunks after.
    """
    limit = min(first, size) if first else size
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= limit:
            yield chunk
            chunk = []
            limit = min(limit * 2, size)
    if chunk:
        yield chunk
