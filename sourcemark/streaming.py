"""Small helpers for processing documents as a stream."""

from __future__ import annotations

import queue
import threading
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


class _Failure:
    """An exception raised by the producer, carried to the consumer to be raised there."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def prefetched(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """The items of ``items``, produced by a background thread up to ``depth`` items ahead.

    Reading and segmenting the next chunk of documents is pure Python, while
    the encoder (onnxruntime or torch) releases the GIL while it computes: a
    thread preparing the next chunk runs during the model's time instead of
    after it. Order is kept; an exception in the producer is raised here, at
    the item where it happened; closing this generator early stops the thread.
    """
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            put(_Failure(exc))

    worker = threading.Thread(target=produce, name="prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)
