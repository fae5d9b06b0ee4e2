"""Input readers: turn what users have (.txt, .jsonl, .html, folders, stdin) into Documents.

Every input yields either a Document or a ReadError, never an exception, so
one bad file in a batch is reported and the rest goes on. Errors name the file
(and line, for JSONL) and say what is wrong in one line.

Text is kept exactly as read (only a UTF-8 byte-order mark is dropped):
Windows line ends (CRLF) stay in the text and passage offsets count the
``\\r``; the segmenter leaves it outside passages.
"""

from __future__ import annotations

import glob
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

from sourcemark.documents import Document
from sourcemark.jsonl import iter_jsonl

#: Default limit on a document's text length, in characters (about 2 MB of text).
DEFAULT_MAX_CHARS = 2_000_000

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl",)
HTML_SUFFIXES = (".html", ".htm")
READABLE_SUFFIXES = TEXT_SUFFIXES + JSONL_SUFFIXES + HTML_SUFFIXES

#: ``meta`` key holding the character offset where an extracted comment section starts.
COMMENT_START_KEY = "comment_start"


@dataclass(frozen=True)
class ReadError:
    """An input that could not be turned into a document, and why."""

    where: str
    message: str
    doc_id: str | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


ReadResult = Union[Document, ReadError]


def decode_text(data: bytes, where: str) -> str | ReadError:
    """Decode UTF-8 (dropping a BOM) or explain why the bytes are not a text document."""
    if not data.strip():
        return ReadError(where, "empty file")
    if b"\x00" in data[:8192]:
        return ReadError(where, "binary file (contains NUL bytes), not a text document")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        return ReadError(where, f"not UTF-8: invalid byte 0x{bad} at byte offset {exc.start}")


def _check_size(text: str, where: str, max_chars: int) -> ReadError | None:
    if len(text) > max_chars:
        return ReadError(where, f"document has {len(text):,} characters, over the limit of {max_chars:,}")
    return None


def _read_bytes(path: Path, max_chars: int) -> bytes | ReadError:
    try:
        size = path.stat().st_size
        # UTF-8 uses at most 4 bytes a character: a larger file cannot be under the limit.
        if size > 4 * max_chars:
            return ReadError(str(path), f"file is {size:,} bytes, over the limit of {max_chars:,} characters")
        return path.read_bytes()
    except OSError as exc:
        return ReadError(str(path), f"cannot read: {exc.strerror or exc}")


def read_text_file(path: Path, doc_id: str, max_chars: int = DEFAULT_MAX_CHARS) -> ReadResult:
    """A plain-text article: the whole file is the document text."""
    data = _read_bytes(path, max_chars)
    if isinstance(data, ReadError):
        return data
    text = decode_text(data, str(path))
    if isinstance(text, ReadError):
        return text
    return _check_size(text, str(path), max_chars) or Document(
        doc_id=doc_id, text=text, meta={"source_file": path.name}
    )


def html_to_document(data: bytes, where: str, doc_id: str) -> ReadResult:
    """Extract main text and comments with trafilatura, keeping the comments recognisable.

    The comment section is appended after a ``Comments`` heading line and its
    offset is stored in ``meta['comment_start']`` so the segmenter does not
    have to guess where it begins.
    """
    import trafilatura  # slow to import: only when HTML is read

    if not data.strip():
        return ReadError(where, "empty file")
    extracted = trafilatura.bare_extraction(data, include_comments=True, with_metadata=True)
    body = (getattr(extracted, "text", None) or "").strip() if extracted else ""
    if not body:
        return ReadError(where, "no article text could be extracted from the HTML")
    meta: dict[str, Any] = {"source_file": Path(where).name}
    title = getattr(extracted, "title", None)
    if title and not body.startswith(title):
        body = f"{title}\n\n{body}"
    comments = (getattr(extracted, "comments", None) or "").strip()
    text = body + "\n"
    if comments:
        heading = "" if comments.lower().split("\n", 1)[0].endswith(("comments", "comment")) else "Comments\n"
        meta[COMMENT_START_KEY] = len(text) + 1
        text = f"{text}\n{heading}{comments}\n"
    for key in ("title", "author", "date", "url", "sitename"):
        value = getattr(extracted, key, None)
        if value:
            meta[key] = value
    return Document(doc_id=doc_id, text=text, meta=meta)


def read_html_file(path: Path, doc_id: str, max_chars: int = DEFAULT_MAX_CHARS) -> ReadResult:
    """An HTML page: main text and comment section, via trafilatura."""
    data = _read_bytes(path, max_chars)
    if isinstance(data, ReadError):
        return data
    if b"\x00" in data[:8192]:
        return ReadError(str(path), "binary file (contains NUL bytes), not HTML")
    doc = html_to_document(data, str(path), doc_id)
    if isinstance(doc, ReadError):
        return doc
    return _check_size(doc.text, str(path), max_chars) or doc


def jsonl_record_to_document(value: Any, where: str, fallback_id: str) -> ReadResult:
    """One JSONL object with ``text`` (and ideally ``doc_id``); other fields go to ``meta``."""
    if not isinstance(value, dict):
        return ReadError(where, f"expected a JSON object, got {type(value).__name__}")
    text = value.get("text")
    doc_id = value.get("doc_id")
    shown = doc_id if isinstance(doc_id, str) and doc_id else None
    if not isinstance(text, str):
        return ReadError(where, "record has no 'text' string", shown)
    if not text.strip():
        return ReadError(where, "record has an empty 'text'", shown)
    meta = dict(value.get("meta") or {}) if isinstance(value.get("meta"), dict) else {}
    for key, item in value.items():
        if key not in ("doc_id", "text", "meta", "passages", "model_version"):
            meta.setdefault(key, item)
    return Document(doc_id=shown or fallback_id, text=text, meta=meta)


def read_jsonl_file(path: str, max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[ReadResult]:
    """Each line of a JSONL file is one document; bad lines become ReadErrors."""
    stem = Path(path).stem if path != "-" else "stdin"
    try:
        for record in iter_jsonl(path):
            if record.error:
                yield ReadError(record.where, record.error)
                continue
            result = jsonl_record_to_document(record.value, record.where, f"{stem}-{record.line}")
            if isinstance(result, Document):
                result = _check_size(result.text, f"{record.where}: {result.doc_id}", max_chars) or result
            yield result
    except OSError as exc:
        yield ReadError(path, f"cannot read: {exc.strerror or exc}")


def _read_stdin(max_chars: int) -> Iterator[ReadResult]:
    data = sys.stdin.buffer.read()
    stripped = data.lstrip()
    if stripped.startswith(b"{"):
        for number, raw in enumerate(data.splitlines(), start=1):
            if not raw.strip():
                continue
            text = decode_text(raw, f"<stdin>:{number}")
            if isinstance(text, ReadError):
                yield text
                continue
            import json

            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield ReadError(f"<stdin>:{number}", f"invalid JSON: {exc.msg}")
                continue
            yield jsonl_record_to_document(value, f"<stdin>:{number}", f"stdin-{number}")
        return
    text = decode_text(data, "<stdin>")
    if isinstance(text, ReadError):
        yield text
        return
    yield _check_size(text, "<stdin>", max_chars) or Document(doc_id="stdin", text=text, meta={})


def read_file(path: Path, max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[ReadResult]:
    """The documents of one file, by its suffix; a text or HTML file's id is its name without suffix."""
    doc_id = path.stem
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        yield from read_jsonl_file(str(path), max_chars)
    elif suffix in HTML_SUFFIXES:
        yield read_html_file(path, doc_id, max_chars)
    else:
        yield read_text_file(path, doc_id, max_chars)


def expand_inputs(inputs: Iterable[str]) -> Iterator[tuple[str, Path | None, ReadError | None]]:
    """Each input as ``(item, file, error)``: directories and globs become their files, ``-`` has no file."""
    for item in inputs:
        if item == "-":
            yield item, None, None
            continue
        path = Path(item)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in READABLE_SUFFIXES
            )
            if not files:
                yield item, None, ReadError(item, "directory has no readable files (.txt, .jsonl, .html, .htm)")
            for file in files:
                yield item, file, None
        elif path.exists():
            yield item, path, None
        elif glob.has_magic(item):
            matches = sorted(Path(p) for p in glob.glob(item, recursive=True) if os.path.isfile(p))
            if not matches:
                yield item, None, ReadError(item, "pattern matches no files")
            for file in matches:
                yield item, file, None
        else:
            yield item, None, ReadError(item, "no such file or directory")


def read_inputs(inputs: Iterable[str], max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[ReadResult]:
    """Read files, directories (recursively), glob patterns and ``-`` (stdin), streaming.

    A file's document id is its name without suffix; when two inputs would share
    an id, the later one gets ``-2``, ``-3``... so ids stay unique within a run.
    """
    unique = UniqueIds()
    for item, path, error in expand_inputs(inputs):
        if error is not None:
            yield error
            continue
        results = _read_stdin(max_chars) if path is None else read_file(path, max_chars)
        for result in results:
            if isinstance(result, Document):
                result.doc_id = unique(result.doc_id)
            yield result


class UniqueIds:
    """Keeps document ids unique within a run: the second ``x`` becomes ``x-2``, the third ``x-3``.

    Every engine that reads documents in input order applies it the same way,
    so the same inputs get the same ids however they are scored.
    """

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, doc_id: str) -> str:
        count = self.seen.get(doc_id, 0) + 1
        self.seen[doc_id] = count
        return doc_id if count == 1 else f"{doc_id}-{count}"
