"""A whole ``sourcemark score`` run as one library call: load, choose the runtime, score, summarise."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Callable

from sourcemark.command_errors import CommandError
from sourcemark.readers import inputs_reading
from sourcemark.model.annotator import Annotator
from sourcemark.scoring.batch import ScoreStats, score_documents, write_summary_csv
from sourcemark.scoring.job import Engine, Runtime, ScoreJob
from sourcemark.scoring.ray_engine import score_documents_ray
from sourcemark.scoring.runtime import use_runtime


def check_outputs(job: ScoreJob) -> None:
    """Refuse outputs that are inputs too, or one another, before anything is read or written.

    Appending predictions to a file being read as input corrupts it (the last
    record was lost that way), and an output inside an input folder is read
    back as input on the next run; two outputs in one file interleave.
    """
    outputs = [(option, path) for option, path in (("--out", job.out), ("--errors", job.errors),
                                                   ("--summary", job.summary)) if path is not None]
    clash = inputs_reading(job.inputs, [path for _option, path in outputs])
    if clash is not None:
        path, item = clash
        option = next(option for option, candidate in outputs if candidate == path)
        raise CommandError(f"{option} {path} would be read as input ({item}): write it outside the inputs")
    seen: dict[str, str] = {}
    for option, path in outputs:
        real = os.path.realpath(path)
        if real in seen:
            raise CommandError(f"{seen[real]} and {option} are the same file ({path})")
        seen[real] = option


def run_score_job(job: ScoreJob, notice: Callable[[str], None] = lambda _m: None) -> ScoreStats:
    """Score ``job`` with its engine and write its summary; ``notice`` hears runtime fallbacks and warnings.

    Raises ModelLoadError, RuntimeUnavailable or RayUnavailable for a job that
    cannot start, and CommandError when an output is also an input, the
    existing output is damaged (DamagedOutput), or a graph or an output cannot
    be written.
    """
    check_outputs(job)
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
            stats = score_documents_ray(job, notice=notice)
        else:
            stats = score_documents(annotator, job, notice=notice)
        if job.summary is not None:
            write_summary_csv(job.out, job.summary)
    except OSError as exc:
        raise CommandError(f"cannot write output: {exc}") from None
    return stats
