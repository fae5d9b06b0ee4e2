"""Batch scoring: stream documents through the model into a predictions file, resumably.

* Streaming: documents are read, scored and written in chunks; memory does
  not grow with the number of documents.
* Resumable: documents already in the output (by ``doc_id``) are skipped, and
  each chunk is appended with one write and an fsync, so a crash loses at most
  the chunk in flight. A partial last line left by a crash is cut off before
  resuming.
* Nothing lost: a document that cannot be read or scored goes to the errors
  file with the reason, and the batch goes on.
"""

from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from tqdm.auto import tqdm

from sourcemark.streaming import chunked
from sourcemark.documents import Document
from sourcemark.jsonl import atomic_output, dumps_document, iter_jsonl
from sourcemark.model.annotator import Annotator
from sourcemark.scoring.summary import SUMMARY_COLUMNS, article_summary
from sourcemark.readers import ReadError, read_inputs
from sourcemark.scoring.job import ScoreJob


@dataclass
class ScoreStats:
    """Counts for the final line and the exit code."""

    scored: int = 0
    skipped: int = 0
    failed: int = 0
    passages: int = 0
    seconds: float = 0.0


def repair_and_collect_ids(path: Path) -> set[str]:
    """Cut a partial last line (a crash mid-write) and return the doc_ids already written."""
    if not path.is_file():
        return set()
    with open(path, "rb+") as handle:
        data_end = handle.seek(0, os.SEEK_END)
        if data_end:
            handle.seek(max(0, data_end - 1))
            if handle.read(1) != b"\n":
                handle.seek(0)
                content = handle.read()
                handle.truncate(content.rfind(b"\n") + 1)
    done = set()
    for record in iter_jsonl(path):
        if isinstance(record.value, dict) and isinstance(record.value.get("doc_id"), str):
            done.add(record.value["doc_id"])
    return done


class AppendLog:
    """An append-only JSONL file written a chunk at a time, each chunk in one write + fsync."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.fd: int | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

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

    Holds the ids already written (for resuming), appends predictions and
    errors a chunk at a time, keeps the counts and the progress bar.
    """

    def __init__(self, out: Path, errors: Path | None, progress: bool) -> None:
        self.done = repair_and_collect_ids(out)
        self.stats = ScoreStats()
        self.started = time.time()
        self.writer, self.error_log = AppendLog(out), AppendLog(errors)
        self.bar = tqdm(desc="scoring", unit="doc", disable=not progress)
        self.lines: list[str] = []
        self.error_lines: list[str] = []

    def error(self, where: str, doc_id: str | None, message: str) -> None:
        self.error_lines.append(_error_line(where, doc_id, message))
        self.stats.failed += 1
        self.bar.update(1)

    def skip(self) -> None:
        self.stats.skipped += 1
        self.bar.update(1)

    def scored(self, doc_id: str, line: str, passages: int) -> None:
        self.lines.append(line)
        self.done.add(doc_id)
        self.stats.scored += 1
        self.stats.passages += passages
        self.bar.update(1)

    def add_chunk(self, scored: list[Document], failures: list[tuple[str, str, str]]) -> None:
        """Keep what :func:`score_chunk` returned: predictions as output lines, failures as errors."""
        for doc in scored:
            self.scored(doc.doc_id, prediction_line(doc), len(doc.passages))
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

    def close(self) -> ScoreStats:
        try:
            self.flush()
        finally:
            self.bar.close()
            self.writer.close()
            self.error_log.close()
        self.stats.seconds = time.time() - self.started
        return self.stats


def prediction_line(doc: Document) -> str:
    """A scored document as its output line, with the per-article summary in ``meta``."""
    doc.meta["summary"] = article_summary(doc)
    return dumps_document(doc)


def score_documents(annotator: Annotator, job: ScoreJob) -> ScoreStats:
    """Score every readable document of ``inputs`` into ``out``; see the module docstring."""
    sink = ScoreSink(job.out, job.errors, job.progress)
    try:
        for chunk in chunked(read_inputs(job.inputs, max_chars=job.max_chars), job.chunk_size):
            todo: list[Document] = []
            for item in chunk:
                if isinstance(item, ReadError):
                    sink.error(item.where, item.doc_id, item.message)
                elif item.doc_id in sink.done:
                    sink.skip()
                else:
                    todo.append(item)
            sink.add_chunk(*score_chunk(annotator, todo, job.batch_size))
            sink.flush()
    finally:
        stats = sink.close()
    return stats


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
