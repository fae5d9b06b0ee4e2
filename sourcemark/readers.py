"""Input readers: turn what users have (.txt, .jsonl, .html, folders, stdin) into Documents.

Every input yields either a Document or a ReadError, never an exception, so
one bad file in a batch is reported and the rest goes on. Errors name the file
(and line, for JSONL) and say what is wrong in one line.

Text is kept exactly as read (only a byte-order mark is dropped; a text file
or stdin with a UTF-16 or UTF-32 byte-order mark is decoded by it): Windows
line ends (CRLF) stay in the text and passage offsets count the ``\\r``; the
segmenter leaves it outside passages.

Document ids must be unique within a run and stable across runs, because
resuming recognises a document by its id (and the hash of its text). A file's
id is its path under the folder given (``2018-02-24/index`` for
``in/2018-02-24/index.txt`` read from ``in``; for a glob, under the folder
before the first wildcard), a file named directly is its name without suffix.
Folders and globs are walked following each directory link at most once, and
a real file is read once per run however many ways lead to it.
"""

from __future__ import annotations

import codecs
import fnmatch
import glob
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Union

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


#: Byte-order marks of the wide encodings; UTF-32 first, its little-endian mark starts like UTF-16's.
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
              (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def wide_encoding(data: bytes) -> str | None:
    """``UTF-16`` or ``UTF-32`` when ``data`` starts with that byte-order mark, else None."""
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            return name
    return None


def _convert_hint(encoding: str) -> str:
    return f"convert to UTF-8 with iconv -f {encoding} -t UTF-8"


def text_sha1(text: str) -> str:
    """The hash that tells whether a document's text changed since it was scored."""
    # surrogatepass: JSON may carry lone surrogates, which plain UTF-8 refuses to encode
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def decode_text(data: bytes, where: str) -> str | ReadError:
    """Decode UTF-8 (dropping a BOM), or UTF-16/32 by its BOM, or explain why the bytes are not a text document."""
    encoding = wide_encoding(data)
    if encoding is not None:
        # checked before the NUL test: UTF-16 text is full of NUL bytes but is text all the same
        try:
            text = data.decode(encoding.lower())  # the codec reads the BOM for the byte order and drops it
        except UnicodeDecodeError as exc:
            return ReadError(where, f"{encoding} byte-order mark but invalid {encoding} at byte offset "
                                    f"{exc.start}: {_convert_hint(encoding)}")
        return text if text.strip() else ReadError(where, "empty file")
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
        # UTF-8, UTF-16 and UTF-32 use at most 4 bytes a character: a larger file cannot be under the limit.
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


def html_to_document(data: bytes | str, where: str, doc_id: str) -> ReadResult:
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
    page: bytes | str = data
    if wide_encoding(data) is not None:
        # trafilatura guesses charsets from bytes; a BOM-marked wide page is decoded here and passed as text
        page = decode_text(data, str(path))
        if isinstance(page, ReadError):
            return page
    elif b"\x00" in data[:8192]:
        return ReadError(str(path), "binary file (contains NUL bytes), not HTML")
    doc = html_to_document(page, str(path), doc_id)
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


def _sized(result: ReadResult, where: str, max_chars: int) -> ReadResult:
    """A JSONL record's document, or the error saying it is over ``max_chars``."""
    if isinstance(result, Document):
        return _check_size(result.text, f"{where}: {result.doc_id}", max_chars) or result
    return result


def read_jsonl_file(path: str, max_chars: int = DEFAULT_MAX_CHARS, id_prefix: str | None = None) -> Iterator[ReadResult]:
    """Each line of a JSONL file is one document; bad lines become ReadErrors.

    A record without ``doc_id`` is named ``{id_prefix}-{line}`` (default: the file name without suffix).
    """
    prefix = id_prefix or (Path(path).stem if path != "-" else "stdin")
    try:
        encoding = None
        if path != "-":
            with open(path, "rb") as handle:
                encoding = wide_encoding(handle.read(4))
        if encoding is not None:
            # lines are split as UTF-8 bytes while streaming; a wide file would fail on every line
            yield ReadError(path, f"{encoding}: {_convert_hint(encoding)}")
            return
        for record in iter_jsonl(path):
            if record.error:
                yield ReadError(record.where, record.error)
                continue
            result = jsonl_record_to_document(record.value, record.where, f"{prefix}-{record.line}")
            yield _sized(result, record.where, max_chars)
    except OSError as exc:
        yield ReadError(path, f"cannot read: {exc.strerror or exc}")


def _stdin_lines(data: bytes) -> Iterator[tuple[int, str | ReadError]]:
    """The non-blank lines of JSONL on stdin, numbered and decoded one by one (a bad line is one error)."""
    if wide_encoding(data) is not None:
        # a wide encoding cannot be split into lines as bytes: decode it whole first
        text = decode_text(data, "<stdin>")
        if isinstance(text, ReadError):
            yield 1, text
            return
        for number, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                yield number, line
        return
    for number, raw in enumerate(data.splitlines(), start=1):
        if raw.strip():
            yield number, decode_text(raw, f"<stdin>:{number}")


def _read_stdin(max_chars: int) -> Iterator[ReadResult]:
    data = sys.stdin.buffer.read()
    encoding = wide_encoding(data)
    if encoding is not None:
        looks_jsonl = data.decode(encoding.lower(), "replace").lstrip("\ufeff").lstrip().startswith("{")
    else:
        looks_jsonl = data.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"{")
    if looks_jsonl:
        for number, text in _stdin_lines(data):
            where = f"<stdin>:{number}"
            if isinstance(text, ReadError):
                yield text
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield ReadError(where, f"invalid JSON: {exc.msg}")
                continue
            # the same limit as a JSONL file: stdin is no way around --max-chars
            yield _sized(jsonl_record_to_document(value, where, f"stdin-{number}"), where, max_chars)
        return
    text = decode_text(data, "<stdin>")
    if isinstance(text, ReadError):
        yield text
        return
    yield _check_size(text, "<stdin>", max_chars) or Document(doc_id="stdin", text=text, meta={})


def read_file(path: Path, max_chars: int = DEFAULT_MAX_CHARS, doc_id: str | None = None) -> Iterator[ReadResult]:
    """The documents of one file, by its suffix.

    A text or HTML file's id is ``doc_id`` (default: its name without suffix); a
    JSONL record without ``doc_id`` gets ``{doc_id}-{line}``.
    """
    doc_id = doc_id or path.stem
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        yield from read_jsonl_file(str(path), max_chars, id_prefix=doc_id)
    elif suffix in HTML_SUFFIXES:
        yield read_html_file(path, doc_id, max_chars)
    else:
        yield read_text_file(path, doc_id, max_chars)


class InputFile(NamedTuple):
    """One input after expansion: a file and its document id, stdin (no path), or an error."""

    item: str
    path: Path | None
    error: ReadError | None = None
    doc_id: str = ""


def _path_id(relative: PurePath) -> str:
    """The id of a file found under a folder: its relative path without suffix, with ``/`` on every system."""
    return relative.with_suffix("").as_posix()


def _readable(parts: tuple[str, ...]) -> bool:
    return Path(parts[-1]).suffix.lower() in READABLE_SUFFIXES


def _walk(root: Path, descend: Callable[[tuple[str, ...]], bool],
          take: Callable[[tuple[str, ...]], bool]) -> Iterator[tuple[Path, tuple[str, ...]] | ReadError]:
    """Files under ``root`` (depth first, names sorted) as ``(path, parts under root)``; unreadable folders as errors.

    A directory link is followed the first time its real folder is met and
    never again, so a link back up (``dir/loop -> dir``) neither loops nor
    makes the same files appear under another name.
    """
    visited = {os.path.realpath(root)}

    def visit(folder: Path, parts: tuple[str, ...]) -> Iterator[tuple[Path, tuple[str, ...]] | ReadError]:
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            # a folder that cannot be listed hides documents: say so instead of skipping it
            yield ReadError(str(folder), f"cannot read folder: {exc.strerror or exc}")
            return
        for entry in entries:
            here = parts + (entry.name,)
            try:
                is_dir = entry.is_dir()  # follows links: a linked folder is read (once)
            except OSError:
                is_dir = False
            if is_dir:
                if not descend(here):
                    continue
                real = os.path.realpath(entry.path)
                if real in visited:
                    continue
                visited.add(real)
                yield from visit(Path(entry.path), here)
            elif take(here):
                try:
                    if entry.is_file():
                        yield Path(entry.path), here
                except OSError:
                    continue

    yield from visit(root, ())


def _split_pattern(pattern: str) -> tuple[Path, tuple[str, ...]]:
    """A glob as the folder before its first wildcard and the pattern parts below it."""
    parts = Path(pattern).parts
    first = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    return (Path(*parts[:first]) if first else Path(".")), parts[first:]


def _part_matches(name: str, pattern: str) -> bool:
    # as glob: wildcards do not match a leading dot unless the pattern starts with one
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatch.fnmatch(name, pattern)


def _matches(parts: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Whether a path (as parts) matches glob pattern parts, ``**`` being any number of folders."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return _matches(parts, pattern[1:]) or (
            bool(parts) and not parts[0].startswith(".") and _matches(parts[1:], pattern))
    return bool(parts) and _part_matches(parts[0], pattern[0]) and _matches(parts[1:], pattern[1:])


def _may_contain_matches(parts: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Whether a folder (as parts) can hold a path matching the pattern: only those are walked."""
    if not parts:
        return True
    if not pattern:
        return False
    if pattern[0] == "**":
        return True
    return _part_matches(parts[0], pattern[0]) and _may_contain_matches(parts[1:], pattern[1:])


def _glob_files(pattern: str) -> Iterator[tuple[Path, tuple[str, ...]] | ReadError]:
    """The files a glob matches, walked like a folder (glob.glob follows link loops without end)."""
    base, parts = _split_pattern(pattern)
    if not parts or not base.is_dir():
        return
    yield from _walk(base, lambda here: _may_contain_matches(here, parts), lambda here: _matches(here, parts))


def expand_inputs(inputs: Iterable[str]) -> Iterator[InputFile]:
    """Each input as InputFiles: directories and globs become their files, ``-`` has no file.

    A real file reached a second time (named twice, or through a link) is not
    yielded again: it would be scored twice under two ids.
    """
    seen: set[str] = set()

    def first_time(path: Path) -> bool:
        real = os.path.realpath(path)
        if real in seen:
            return False
        seen.add(real)
        return True

    for item in inputs:
        if item == "-":
            yield InputFile(item, None, None, "stdin")
            continue
        path = Path(item)
        if path.is_dir() or (glob.has_magic(item) and not path.exists()):
            found = False
            walk = _walk(path, lambda _here: True, _readable) if path.is_dir() else _glob_files(item)
            for result in walk:
                if isinstance(result, ReadError):
                    yield InputFile(item, None, result)
                    continue
                file, parts = result
                found = True
                if first_time(file):
                    yield InputFile(item, file, None, _path_id(PurePath(*parts)))
            if not found:
                yield InputFile(item, None, ReadError(item, "directory has no readable files (.txt, .jsonl, .html, .htm)"
                                                      if path.is_dir() else "pattern matches no files"))
        elif path.exists():
            if first_time(path):
                yield InputFile(item, path, None, path.stem)
        else:
            yield InputFile(item, None, ReadError(item, "no such file or directory"))


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _reads_by_name(item: str, target: Path) -> bool:
    """Whether input ``item`` names ``target``, or a folder or glob that holds it (or will, once it exists)."""
    absolute, real = os.path.abspath(target), os.path.realpath(target)
    path = Path(item)
    if path.is_dir():
        return _readable(target.parts) and (_within(absolute, os.path.abspath(path))
                                            or _within(real, os.path.realpath(path)))
    if path.exists():
        return os.path.realpath(path) == real
    if glob.has_magic(item):
        base, parts = _split_pattern(item)
        for name, folder in ((absolute, os.path.abspath(base)), (real, os.path.realpath(base))):
            if name != folder and _within(name, folder) and _matches(Path(os.path.relpath(name, folder)).parts, parts):
                return True
    return False


def inputs_reading(inputs: Iterable[str], targets: Iterable[str | os.PathLike[str]]) -> tuple[Path, str] | None:
    """The first of ``targets`` that an input reads (or would, once it exists), with that input; else None.

    An output that is also an input is read while it is written (appended to,
    or replaced), and one inside an input folder is read back as input on the
    next run: commands refuse both before doing anything.
    """
    inputs = [item for item in inputs if item != "-"]
    targets = [Path(target) for target in targets]
    for target in targets:
        for item in inputs:
            if _reads_by_name(item, target):
                return target, item
    existing = {os.path.realpath(target): target for target in targets if target.exists()}
    if existing:  # reached another way (a link inside an input folder): only a listing tells
        for entry in expand_inputs(inputs):
            if entry.path is not None and os.path.realpath(entry.path) in existing:
                return existing[os.path.realpath(entry.path)], entry.item
    return None


def read_inputs(inputs: Iterable[str], max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[ReadResult]:
    """Read files, directories (recursively), glob patterns and ``-`` (stdin), streaming.

    Ids are those of the module docstring; when two documents would still share
    an id (two JSONL records, two files named directly), the later one is renamed
    by :class:`UniqueIds` so ids stay unique within a run.
    """
    unique = UniqueIds()
    for entry in expand_inputs(inputs):
        if entry.error is not None:
            yield entry.error
            continue
        results = (_read_stdin(max_chars) if entry.path is None
                   else read_file(entry.path, max_chars, entry.doc_id))
        for result in results:
            if isinstance(result, Document):
                result.doc_id = unique(result.doc_id)
            yield result


class UniqueIds:
    """Keeps document ids unique within a run: a second ``x`` becomes ``x-2``, a third ``x-3``...

    A new name is never one already given in the run (``x-2`` read earlier makes
    the second ``x`` ``x-3``), and an id read later that equals a name given
    earlier is renamed in turn, so no two documents of a run share an id and
    resuming cannot mistake one for the other.

    Every engine that reads documents in input order applies it the same way,
    so the same inputs get the same ids however they are scored.
    """

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self.next_suffix: dict[str, int] = {}

    def __call__(self, doc_id: str) -> str:
        if doc_id not in self.taken:
            self.taken.add(doc_id)
            return doc_id
        suffix = self.next_suffix.get(doc_id, 2)
        while f"{doc_id}-{suffix}" in self.taken:
            suffix += 1
        self.next_suffix[doc_id] = suffix + 1
        renamed = f"{doc_id}-{suffix}"
        self.taken.add(renamed)
        return renamed
