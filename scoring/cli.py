"""``sourcemark score``: batch-score articles with a trained model."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from sourcemark.command_errors import err, reports_errors
from sourcemark.model.annotator import ModelLoadError
from sourcemark.readers import DEFAULT_MAX_CHARS
from sourcemark.scoring.job import DEFAULT_BATCH_SIZE, Engine, Runtime, ScoreJob
from sourcemark.scoring.ray_engine import RayUnavailable
from sourcemark.scoring.run import run_score_job
from sourcemark.scoring.runtime import RuntimeUnavailable


@reports_errors(ModelLoadError, RuntimeUnavailable, RayUnavailable, ValueError)
def score_command(
    inputs: List[str] = typer.Argument(..., help="Files, directories, glob patterns or - (stdin)."),
    model: Path = typer.Option(..., "--model", help="A trained model directory (sourcemark train --out)."),
    out: Path = typer.Option(..., "--out", "-o", help="Predictions JSONL; an existing file is resumed."),
    summary: Optional[Path] = typer.Option(None, "--summary", help="Per-article summary CSV."),
    errors: Optional[Path] = typer.Option(None, "--errors", help="JSONL of documents that failed, with reasons."),
    max_chars: int = typer.Option(DEFAULT_MAX_CHARS, help="Documents longer than this fail."),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, min=1, help="Windows (passages) per forward pass."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    engine: Engine = typer.Option(Engine.local, help="local: this process; ray: Ray Data with a pool of model actors."),
    ray_address: Optional[str] = typer.Option(
        None, envvar="RAY_ADDRESS", help="Ray cluster to join (default: start a local Ray instance)."),
    actors: Optional[int] = typer.Option(None, min=1, help="Ray engine: model actors (default: one per CPU)."),
    runtime: Runtime = typer.Option(
        Runtime.auto, help="Encoder runtime: auto (onnx when ONNX Runtime is installed and the graph can be "
        "cached, else torch); torch; onnx (ONNX Runtime fp32, same labels as torch); onnx-int8 (faster, a few "
        "labels change: checked once per model on the bundled dev sets, fp32 ONNX if it fails; speed in "
        "bench/results). Graphs are cached in the model directory."),
) -> None:
    """Score articles into a predictions file. Exit 0: all scored; 2: some failed; 1: fatal error."""
    job = ScoreJob(inputs=tuple(inputs), model_dir=model, out=out, errors=errors, summary=summary,
                   max_chars=max_chars, batch_size=batch_size, runtime=runtime, engine=engine,
                   progress=not quiet, actors=actors, ray_address=ray_address)
    stats = run_score_job(job, notice=err)
    err(f"scored {stats.scored}, skipped {stats.skipped} (already in {out}), failed {stats.failed} "
        f"in {stats.seconds:.1f}s ({stats.passages / max(stats.seconds, 1e-9):.0f} passages/s)")
    if stats.failed and errors is None:
        err("some documents failed: rerun with --errors FILE to keep the reasons")
    raise typer.Exit(2 if stats.failed else 0)
