"""Scoring on Ray Data, for more documents than one machine scores in time.

The same job as :func:`sourcemark.scoring.batch.score_documents`, spread over a
Ray cluster (or a local Ray instance):

* reading: the input files are listed on the driver (paths only) and read by
  Ray tasks (``flat_map``), so JSONL shards are parsed where they are scored;
* scoring: ``map_batches`` over a pool of model actors, each loading the model
  once and scoring batches of documents with the local engine's code;
* writing: the driver takes the rows back in input order and writes them
  through the same sink as the local engine, so ids, resuming, the errors file
  and the summaries are the same whichever engine ran.

Documents already in the output (same id, same text hash) are skipped by the
readers when their id as read is already done; ids made unique by the driver
(a second ``x`` becomes ``x-2``) are checked again there, and the rare
document a reader skipped wrongly is scored on the driver. A changed text is
announced and rescored on the driver's check, as with the local engine.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import torch

from sourcemark.documents import Document
from sourcemark.jsonl import dumps_document
from sourcemark.model.annotator import Annotator
from sourcemark.readers import ReadError, UniqueIds, expand_inputs, read_file, text_sha1
from sourcemark.scoring.batch import ScoreSink, ScoreStats, prediction_line, score_chunk
from sourcemark.scoring.job import ScoreJob
from sourcemark.scoring.runtime import use_runtime

#: Row kinds passed between the stages.
DOC, PRED, SKIP, ERROR = "doc", "pred", "skip", "error"


class RayUnavailable(RuntimeError):
    """Ray is not installed (it is the optional extra ``sourcemark[ray]``)."""


#: Row columns; ``passages`` is set on predictions so the driver need not parse their lines to count them,
#: ``sha`` is the hash of the document's text, for resuming.
COLUMNS = ("kind", "doc_id", "payload", "where", "passages", "sha")


def _row(kind: str, doc_id: str | None, payload: str, where: str = "", passages: int = 0,
         sha: str = "") -> dict[str, Any]:
    return {"kind": kind, "doc_id": doc_id or "", "payload": payload, "where": where, "passages": passages,
            "sha": sha}


def read_rows(item: dict[str, Any], max_chars: int, done: dict[str, str]) -> list[dict[str, Any]]:
    """Ray task: the documents of one file as rows (a read error is a row too)."""
    rows = []
    for result in read_file(Path(item["path"]), max_chars, item["doc_id"]):
        if isinstance(result, ReadError):
            rows.append(_row(ERROR, result.doc_id, result.message, result.where))
        else:
            sha = text_sha1(result.text)
            kind = SKIP if done.get(result.doc_id) == sha else DOC
            rows.append(_row(kind, result.doc_id, dumps_document(result), item["path"], sha=sha))
    return rows


class ScoringActor:
    """Ray actor: loads the model once, then scores batches of document rows."""

    def __init__(self, model_dir: str, batch_size: int, threads: int, runtime: str = "torch") -> None:
        torch.set_num_threads(threads)
        self.annotator = Annotator.load(model_dir)
        use_runtime(self.annotator, model_dir, runtime)
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        rows = [dict(zip(batch, values)) for values in zip(*batch.values())]
        docs = []
        for index, r in enumerate(rows):
            if r["kind"] == DOC:
                doc = Document.from_dict(json.loads(r["payload"]))
                # ids may repeat within a batch (the driver makes them unique later): match results by position
                doc.doc_id = str(index)
                docs.append(doc)
        scored, failures = score_chunk(self.annotator, docs, self.batch_size)
        done = {doc.doc_id: doc for doc in scored}
        failed = {key: (where, message) for where, key, message in failures}
        out = []
        for index, r in enumerate(rows):
            key = str(index)
            if r["kind"] != DOC:
                out.append(r)
            elif key in done:
                doc = done[key]
                doc.doc_id = r["doc_id"]
                out.append(_row(PRED, r["doc_id"], prediction_line(doc), r["where"], len(doc.passages), r["sha"]))
            else:
                where, message = failed.get(key, (r["where"], "scoring failed"))
                out.append(_row(ERROR, r["doc_id"], message, r["doc_id"] if where == key else where))
        return {key: [r[key] for r in out] for key in COLUMNS}


def _start_ray(address: str | None, num_cpus: int | None, progress: bool) -> Any:
    try:
        import ray  # lazy: Ray is the optional extra sourcemark[ray]
        from ray.data import DataContext
    except ImportError:
        raise RayUnavailable("the Ray engine needs Ray: pip install 'sourcemark[ray]'") from None
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    context = DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = progress
    return ray


def score_documents_ray(job: ScoreJob, docs_per_batch: int = 16, threads_per_actor: int = 1,
                        notice: Callable[[str], None] = lambda _m: None) -> ScoreStats:
    """Score ``job.inputs`` into ``job.out`` with a pool of model actors on Ray; see the module docstring."""
    runtime = job.runtime.value
    ray = _start_ray(job.ray_address,
                     None if job.ray_address else (job.actors or os.cpu_count() or 1) * threads_per_actor,
                     job.progress)
    pool = job.actors or max(1, int(ray.cluster_resources().get("CPU", 1) // threads_per_actor))
    sink = ScoreSink(job.out, job.errors, job.progress, notice)
    unique = UniqueIds()
    leftovers: list[Document] = []
    completed = False
    try:
        paths = []
        for entry in expand_inputs(job.inputs):
            if entry.error is not None:
                sink.error(entry.error.where, entry.error.doc_id, entry.error.message)
            elif entry.path is None:
                sink.error(entry.item, None, "the Ray engine reads files, not standard input")
            else:
                paths.append({"path": str(entry.path), "doc_id": entry.doc_id})
        if paths:
            dataset = (
                ray.data.from_items(paths, override_num_blocks=min(len(paths), 4 * pool))
                # reading is light next to the model: it must not wait for the CPUs the actors hold
                .flat_map(read_rows, fn_kwargs={"max_chars": job.max_chars, "done": dict(sink.done)},
                          num_cpus=0)
                .map_batches(ScoringActor, batch_size=docs_per_batch, concurrency=pool,
                             num_cpus=threads_per_actor, batch_format="default",
                             fn_constructor_kwargs={"model_dir": str(job.model_dir), "batch_size": job.batch_size,
                                                    "threads": threads_per_actor, "runtime": runtime})
            )
            for count, row in enumerate(dataset.iter_rows(), start=1):
                _finish_row(row, sink, unique, leftovers)
                if count % docs_per_batch == 0:
                    sink.flush()
        if leftovers:
            _score_leftovers(job, leftovers, sink)
        completed = True
    finally:
        stats = sink.close(completed)
    return stats


def _finish_row(row: dict[str, Any], sink: ScoreSink, unique: UniqueIds, leftovers: list[Document]) -> None:
    """Driver side, in input order: unique ids, skip what is done, keep predictions and errors."""
    kind = row["kind"]
    if kind == ERROR:
        sink.error(row["where"], row["doc_id"] or None, row["payload"])
        return
    doc_id = unique(row["doc_id"])
    if sink.is_done(doc_id, row["sha"]):
        sink.skip()
    elif kind == SKIP:
        doc = Document.from_dict(json.loads(row["payload"]))
        doc.doc_id = doc_id
        leftovers.append(doc)
    else:
        line = row["payload"]
        if doc_id != row["doc_id"]:
            record = json.loads(line)
            record["doc_id"] = doc_id
            line = json.dumps(record, ensure_ascii=False)
        sink.scored(doc_id, line, int(row["passages"]), row["sha"])


def _score_leftovers(job: ScoreJob, docs: list[Document], sink: ScoreSink) -> None:
    """Documents a reader skipped because another document had their id: scored here."""
    annotator = Annotator.load(job.model_dir)
    use_runtime(annotator, job.model_dir, job.runtime.value)  # the actors' runtime, so the same labels
    sink.add_chunk(*score_chunk(annotator, docs, job.batch_size))
