"""Batch scoring: stream documents through the model into a predictions file, resumably.

* Streaming: documents are read, scored and written in chunks; memory does
  not grow with the number of documents.
* Resumable: a document already in the output is skipped when both its
  ``doc_id`` and the hash of its text match the last line written for that
  id (the hash is computed from the stored ``text``, so older outputs resume
  too). A document whose id is there but whose text changed is scored again,
  with a warning on stderr: its new line is appended like any other, and at
  the end of the run the output is rewritten atomically keeping only the last
  line of each id. A run stopped before that rewrite leaves both lines; the
  next run reads the last one as the current prediction and rewrites then.
* Crash-safe: each chunk is appended with one write and an fsync, so a crash
  loses at most the chunk in flight. A partial last line left by a crash is
  cut off before resuming; any other bad line (a torn line in the middle, a
  record without ``doc_id``, ``text`` or ``passages``) is reported by file and
  line and nothing is appended: it is not a file this run can safely extend.
* Nothing lost: a document that cannot be read or scored goes to the errors
  file with the reason, and the batch goes on. The errors file holds the
  failures of the last run: each run rewrites it. Failed documents are never
  in the output, so every run retries them and records again what still
  fails; appending instead would repeat every failure on every rerun.
"""

from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from tqdm.auto import tqdm

from sourcemark.command_errors import CommandError
from sourcemark.streaming import chunked, prefetched
from sourcemark.documents import Document
from sourcemark.jsonl import JsonlRecord, atomic_output, dumps_document, iter_jsonl, parse_line
from sourcemark.model.annotator import Annotator
from sourcemark.scoring.summary import SUMMARY_COLUMNS, article_summary
from sourcemark.readers import ReadError, ReadResult, read_inputs, text_sha1
from sourcemark.scoring.job import FIRST_CHUNK, ScoreJob


@dataclass
class ScoreStats:
    """Counts for the final line and the exit code."""

    scored: int = 0
    skipped: int = 0
    failed: int = 0
    passages: int = 0
    seconds: float = 0.0


class DamagedOutput(CommandError):
    """The predictions file has a bad line before its end: appending to it would bury the damage."""


def _prediction_problem(record: JsonlRecord) -> tuple[str | None, str, str]:
    """``(problem, doc_id, text)`` of one complete output line; ``problem`` is None for a usable prediction."""
    if record.error:
        return record.error, "", ""
    value = record.value
    if not isinstance(value, dict):
        return f"expected a JSON object, got {type(value).__name__}", "", ""
    doc_id, text = value.get("doc_id"), value.get("text")
    if not isinstance(doc_id, str) or not doc_id:
        return "record has no 'doc_id' string", "", ""
    if not isinstance(text, str):
        return f"{doc_id}: record has no 'text' string", "", ""
    if not isinstance(value.get("passages"), list):
        return f"{doc_id}: record has no 'passages' list", "", ""
    return None, doc_id, text


def load_output(path: Path) -> tuple[dict[str, str], bool]:
    """Check an existing output, cut a partial last line, and return what it holds.

    Returns the text hash of each ``doc_id`` (from its last line) and whether
    an id has more than one line. Raises DamagedOutput, naming the file and
    line, for a bad line anywhere but at the very end; the file is then left
    exactly as it was.
    """
    if not path.is_file():
        return {}, False
    done: dict[str, str] = {}
    repeated = False
    complete = 0  # bytes up to the end of the last complete line
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                break  # a partial last line: a crash mid-write, cut below
            complete += len(raw)
            if not raw.strip():
                continue
            problem, doc_id, text = _prediction_problem(parse_line(str(path), number, raw))
            if problem is not None:
                raise DamagedOutput(f"{path}:{number}: {problem}: refusing to append to a damaged predictions "
                                    f"file; fix or remove that line, or score into another --out")
            repeated = repeated or doc_id in done
            done[doc_id] = text_sha1(text)
        size = handle.seek(0, os.SEEK_END)
    if complete < size:
        with open(path, "rb+") as handle:
            handle.truncate(complete)
    return done, repeated


def keep_last_lines(path: Path) -> None:
    """Rewrite ``path`` atomically, keeping only the last line of each ``doc_id`` (the current prediction)."""
    last: dict[str, int] = {}
    for record in iter_jsonl(path):
        if isinstance(record.value, dict):
            last[record.value.get("doc_id")] = record.line
    keep = set(last.values())
    with atomic_output(path) as target:
        with open(path, "rb") as source:  # closed before the replace, which some systems need
            for number, raw in enumerate(source, start=1):
                if number in keep:
                    target.write(raw.decode("utf-8"))


class AppendLog:
    """An append-only JSONL file written a chunk at a time, each chunk in one write + fsync.

    ``truncate`` empties an existing file first (the errors file is rewritten by each run).
    """

    def __init__(self, path: Path | None, truncate: bool = False) -> None:
        self.path = path
        self.fd: int | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (os.O_TRUNC if truncate else 0)
            self.fd = os.open(path, flags, 0o644)

    def write(self, lines: list[str]) -> None:
        if self.fd is None or not lines:
            return
        os.write(self.fd, ("\n".join(lines) + "\n").encode("utf-8"))
        os.fsync(self.fd)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _error_line(where: str, doc_id: str | None, message: str) -> str:
    return json.dumps({"where": where, "doc_id": doc_id, "error": message}, ensure_ascii=False)


class ScoreSink:
    """Where scored documents and failures go, whichever engine scored them.

    Holds the ids already written with the hash of their text (for resuming),
    appends predictions and errors a chunk at a time, keeps the counts and the
    progress bar. ``notice`` hears warnings (a changed text scored again).
    """

    def __init__(self, out: Path, errors: Path | None, progress: bool,
                 notice: Callable[[str], None] = lambda _m: None) -> None:
        self.out = out
        # checked before anything is opened for writing: a damaged output is refused untouched
        self.done, self.superseded = load_output(out)
        self.notice = notice
        self.stats = ScoreStats()
        self.started = time.time()
        self.writer, self.error_log = AppendLog(out), AppendLog(errors, truncate=True)
        self.bar = tqdm(desc="scoring", unit="doc", disable=not progress)
        self.lines: list[str] = []
        self.error_lines: list[str] = []

    def is_done(self, doc_id: str, text_hash: str) -> bool:
        """Whether this document (its id and its text) is already in the output; a changed text is announced."""
        known = self.done.get(doc_id)
        if known is None:
            return False
        if known == text_hash:
            return True
        self.notice(f"warning: {doc_id}: the text changed since it was scored into {self.out}: scoring it again "
                    f"(the new prediction replaces the old one)")
        return False

    def error(self, where: str, doc_id: str | None, message: str) -> None:
        self.error_lines.append(_error_line(where, doc_id, message))
        self.stats.failed += 1
        self.bar.update(1)

    def skip(self) -> None:
        self.stats.skipped += 1
        self.bar.update(1)

    def scored(self, doc_id: str, line: str, passages: int, text_hash: str) -> None:
        if doc_id in self.done:
            self.superseded = True  # an older line of this id is dropped when the run ends
        self.lines.append(line)
        self.done[doc_id] = text_hash
        self.stats.scored += 1
        self.stats.passages += passages
        self.bar.update(1)

    def add_chunk(self, scored: list[Document], failures: list[tuple[str, str, str]]) -> None:
        """Keep what :func:`score_chunk` returned: predictions as output lines, failures as errors."""
        for doc in scored:
            self.scored(doc.doc_id, prediction_line(doc), len(doc.passages), text_sha1(doc.text))
        for where, doc_id, message in failures:
            self.error(where, doc_id, message)

    def flush(self) -> None:
        """Append what is pending (one write + fsync per file) and refresh the rates."""
        self.writer.write(self.lines)
        self.error_log.write(self.error_lines)
        self.lines, self.error_lines = [], []
        elapsed = max(time.time() - self.started, 1e-9)
        self.bar.set_postfix(docs_s=f"{self.stats.scored / elapsed:.1f}",
                             passages_s=f"{self.stats.passages / elapsed:.0f}", failed=self.stats.failed)

    def close(self, completed: bool = True) -> ScoreStats:
        """Write what is pending; after a completed run, drop the lines that newer ones replaced.

        An interrupted run skips that rewrite (it may be long): the next run
        reads the last line of each id and rewrites when it completes.
        """
        try:
            self.flush()
        finally:
            self.bar.close()
            self.writer.close()
            self.error_log.close()
        if completed and self.superseded:
            keep_last_lines(self.out)
            self.superseded = False
        self.stats.seconds = time.time() - self.started
        return self.stats


def prediction_line(doc: Document) -> str:
    """A scored document as its output line, with the per-article summary in ``meta``."""
    doc.meta["summary"] = article_summary(doc)
    return dumps_document(doc)


def score_documents(annotator: Annotator, job: ScoreJob,
                    notice: Callable[[str], None] = lambda _m: None) -> ScoreStats:
    """Score every readable document of ``inputs`` into ``out``; see the module docstring."""
    sink = ScoreSink(job.out, job.errors, job.progress, notice)
    completed = False
    chunks = chunked(read_inputs(job.inputs, max_chars=job.max_chars), job.chunk_size, first=FIRST_CHUNK)
    try:
        for chunk in prefetched(prepared_chunks(annotator, chunks, dict(sink.done))):
            todo: list[Document] = []
            for item in chunk:
                if isinstance(item, ReadError):
                    sink.error(item.where, item.doc_id, item.message)
                elif sink.is_done(item.doc_id, text_sha1(item.text)):
                    sink.skip()
                else:
                    todo.append(item)
            sink.add_chunk(*score_chunk(annotator, todo, job.batch_size))
            sink.flush()
        completed = True
    finally:
        stats = sink.close(completed)
    return stats


def prepared_chunks(annotator: Annotator, chunks: Iterable[list[ReadResult]],
                    done: dict[str, str]) -> Iterator[list[ReadResult]]:
    """Chunks whose documents are cut into passages and windows already, except those ``done`` (id -> text
    hash) holds.

    Run ahead by :func:`~sourcemark.streaming.prefetched`: it reads and segments
    the next chunk while the model scores this one. ``done`` is the output as
    it was when the run started (ids are unique within a run, so nothing
    scored meanwhile changes what needs preparing). A document whose
    preparation fails is passed on as read; scoring it again isolates and
    reports it.
    """
    for chunk in chunks:
        prepared: list[ReadResult] = []
        for item in chunk:
            if isinstance(item, Document) and done.get(item.doc_id) != text_sha1(item.text):
                try:
                    item = annotator.prepare(item, windows=True)
                except Exception:  # noqa: BLE001 - reported when score_chunk meets it again
                    pass
            prepared.append(item)
        yield prepared


def score_chunk(annotator: Annotator, docs: list[Document],
                batch_size: int) -> tuple[list[Document], list[tuple[str, str, str]]]:
    """Score a chunk; if the chunk fails, score its documents one by one to isolate the bad one.

    Returns the scored documents and ``(where, doc_id, reason)`` for each failure.
    """
    if not docs:
        return [], []
    try:
        return list(annotator.annotate(docs, batch_size=batch_size, docs_per_chunk=len(docs))), []
    except Exception:  # noqa: BLE001 - one bad document must not stop the batch
        pass
    scored, failures = [], []
    for doc in docs:
        try:
            scored += list(annotator.annotate([doc], batch_size=batch_size))
        except Exception as exc:  # noqa: BLE001
            failures.append((doc.meta.get("source_file", doc.doc_id), doc.doc_id,
                             f"scoring failed: {type(exc).__name__}: {exc}"))
    return scored, failures


def write_summary_csv(predictions: Path, path: Path) -> int:
    """The per-article summary table of a predictions file (all of it, resumed runs included)."""
    rows = 0
    with atomic_output(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(SUMMARY_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        for record in iter_jsonl(predictions):
            if isinstance(record.value, dict):
                summary = (record.value.get("meta") or {}).get("summary")
                if summary is None:
                    summary = article_summary(Document.from_dict(record.value))
                writer.writerow(summary)
                rows += 1
    return rows
