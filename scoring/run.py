"""A whole ``sourcemark score`` run as one library call: load, choose the runtime, score, summarise."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from sourcemark.command_errors import CommandError
from sourcemark.model.annotator import Annotator
from sourcemark.scoring.batch import ScoreStats, score_documents, write_summary_csv
from sourcemark.scoring.job import Engine, Runtime, ScoreJob
from sourcemark.scoring.ray_engine import score_documents_ray
from sourcemark.scoring.runtime import use_runtime


def run_score_job(job: ScoreJob, notice: Callable[[str], None] = lambda _m: None) -> ScoreStats:
    """Score ``job`` with its engine and write its summary; ``notice`` hears runtime fallbacks.

    Raises ModelLoadError, RuntimeUnavailable or RayUnavailable for a job that
    cannot start, and CommandError when a graph or an output cannot be written.
    """
    annotator = Annotator.load(job.model_dir)
    try:
        used = use_runtime(annotator, job.model_dir, job.runtime.value, notice=notice)
    except OSError as exc:  # a runtime asked for by name, and its graph cannot be written
        raise CommandError(f"runtime {job.runtime.value}: cannot cache the ONNX graph in {job.model_dir}: "
                           f"{exc}") from None
    job = replace(job, runtime=Runtime(used))  # Ray actors use what the driver could use, so the same labels
    try:
        if job.engine is Engine.ray:
            del annotator  # each Ray actor loads its own copy
            stats = score_documents_ray(job)
        else:
            stats = score_documents(annotator, job)
        if job.summary is not None:
            write_summary_csv(job.out, job.summary)
    except OSError as exc:
        raise CommandError(f"cannot write output: {exc}") from None
    return stats
