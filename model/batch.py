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
from sourcemark.model.summary import SUMMARY_COLUMNS, article_summary
from sourcemark.readers import DEFAULT_MAX_CHARS, ReadError, read_inputs


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


def score_documents(
    annotator: Annotator,
    inputs: Iterable[str],
    out: Path,
    errors: Path | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    chunk_size: int = 32,
    batch_size: int = 16,
    progress: bool = True,
) -> ScoreStats:
    """Score every readable document of ``inputs`` into ``out``; see the module docstring."""
    stats = ScoreStats()
    started = time.time()
    done = repair_and_collect_ids(out)
    writer, error_log = AppendLog(out), AppendLog(errors)
    bar = tqdm(desc="scoring", unit="doc", disable=not progress)
    try:
        for chunk in chunked(read_inputs(inputs, max_chars=max_chars), chunk_size):
            todo: list[Document] = []
            error_lines: list[str] = []
            for item in chunk:
                if isinstance(item, ReadError):
                    error_lines.append(_error_line(item.where, item.doc_id, item.message))
                    stats.failed += 1
                elif item.doc_id in done:
                    stats.skipped += 1
                else:
                    todo.append(item)
            lines = []
            for doc in _score_chunk(annotator, todo, batch_size, error_lines, stats):
                doc.meta["summary"] = article_summary(doc)
                lines.append(dumps_document(doc))
                done.add(doc.doc_id)
                stats.scored += 1
                stats.passages += len(doc.passages)
            writer.write(lines)
            error_log.write(error_lines)
            bar.update(len(chunk))
            elapsed = max(time.time() - started, 1e-9)
            bar.set_postfix(docs_s=f"{stats.scored / elapsed:.1f}", passages_s=f"{stats.passages / elapsed:.0f}",
                            failed=stats.failed)
    finally:
        bar.close()
        writer.close()
        error_log.close()
    stats.seconds = time.time() - started
    return stats


def _score_chunk(annotator: Annotator, docs: list[Document], batch_size: int,
                 error_lines: list[str], stats: ScoreStats) -> list[Document]:
    """Score a chunk; if the chunk fails, score its documents one by one to isolate the bad one."""
    if not docs:
        return []
    try:
        return list(annotator.annotate(docs, batch_size=batch_size, docs_per_chunk=len(docs)))
    except Exception:  # noqa: BLE001 - one bad document must not stop the batch
        pass
    out = []
    for doc in docs:
        try:
            out += list(annotator.annotate([doc], batch_size=batch_size))
        except Exception as exc:  # noqa: BLE001
            error_lines.append(_error_line(doc.meta.get("source_file", doc.doc_id), doc.doc_id,
                                           f"scoring failed: {type(exc).__name__}: {exc}"))
            stats.failed += 1
    return out


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
