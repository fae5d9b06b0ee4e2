"""Streaming JSON Lines input and atomic output.

Files are read one line at a time so a 1 GB file never sits in memory, and
every problem carries the file and line it came from. Output goes to a
temporary file that replaces the target only when complete, so a crash never
leaves a half-written result behind (nor, on SIGTERM, a stray temporary file).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from sourcemark.documents import Document, FormatError


@dataclass
class JsonlRecord:
    """One line of a JSONL file: the parsed value, or why it could not be parsed."""

    path: str
    line: int
    value: Any = None
    error: str | None = None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[JsonlRecord]:
    """Yield every non-blank line of ``path`` as a JsonlRecord, streaming.

    Undecodable bytes and JSON syntax errors become records with ``error``
    set instead of exceptions, so one bad line never hides the rest.
    """
    name = str(path)
    stream: IO[bytes]
    with (sys.stdin.buffer if name == "-" else open(path, "rb")) as stream:
        for number, raw in enumerate(stream, start=1):
            if raw.strip():
                yield parse_line(name, number, raw)


def parse_line(name: str, number: int, raw: bytes) -> JsonlRecord:
    """One raw line as a JsonlRecord: its value, or why it is not UTF-8 JSON (a BOM on line 1 is dropped)."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return JsonlRecord(name, number, error=f"not UTF-8 (byte {exc.start} of the line)")
    if number == 1 and line.startswith("\ufeff"):
        line = line[1:]
    try:
        return JsonlRecord(name, number, value=json.loads(line))
    except json.JSONDecodeError as exc:
        return JsonlRecord(name, number, error=f"invalid JSON: {exc.msg} (column {exc.colno})")


def read_documents(path: str | os.PathLike[str]) -> Iterator[Document]:
    """Yield the Documents of an annotated-documents file; raise on the first bad line.

    For data that must be whole (gold, training data) a bad line is fatal;
    use :func:`iter_jsonl` where bad lines should be skipped and reported.
    """
    for record in iter_jsonl(path):
        if record.error:
            raise FormatError(f"{record.where}: {record.error}")
        try:
            yield Document.from_dict(record.value)
        except FormatError as exc:
            raise FormatError(f"{record.where}: {exc}") from None


def dumps_document(doc: Document) -> str:
    """One JSONL line (without newline) for a document."""
    return json.dumps(doc.to_dict(), ensure_ascii=False)


class Terminated(SystemExit):
    """SIGTERM, raised where the program is so ``finally`` and ``except`` blocks clean up on the way out."""


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` (exit status 143) instead of ending the process at once.

    The default action kills the process without unwinding, so cleanup code
    never runs. Only that default is replaced: a handler someone installed
    (a server, Ray) stays theirs. Handlers can only be set in the main thread;
    elsewhere this does nothing.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def terminate(signum: int, _frame: object) -> None:
        raise Terminated(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def atomic_output(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[str]]:
    """Open a temporary file beside ``path`` and move it over ``path`` on success.

    ``-`` writes to stdout. On an exception, and on SIGTERM, the temporary file
    is removed and the previous content of ``path`` stays as it was.
    """
    if str(path) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with sigterm_raises():
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs get the usual permissions
            with os.fdopen(fd, mode, encoding="utf-8") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def write_documents(path: str | os.PathLike[str], docs: Iterable[Document]) -> int:
    """Write documents as JSONL atomically; return how many were written."""
    count = 0
    with atomic_output(path) as handle:
        for doc in docs:
            handle.write(dumps_document(doc) + "\n")
            count += 1
    return count
