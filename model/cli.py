"""``sourcemark score``: batch-score articles with a trained model."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from sourcemark.readers import DEFAULT_MAX_CHARS


def score_command(
    inputs: List[str] = typer.Argument(..., help="Files, directories, glob patterns or - (stdin)."),
    model: Path = typer.Option(..., "--model", help="A trained model directory (sourcemark train --out)."),
    out: Path = typer.Option(..., "--out", "-o", help="Predictions JSONL; an existing file is resumed."),
    summary: Optional[Path] = typer.Option(None, "--summary", help="Per-article summary CSV."),
    errors: Optional[Path] = typer.Option(None, "--errors", help="JSONL of documents that failed, with reasons."),
    max_chars: int = typer.Option(DEFAULT_MAX_CHARS, help="Documents longer than this fail."),
    batch_size: Optional[int] = typer.Option(
        None, min=1, show_default=False, help="Windows (passages) per forward pass (default: model.batch.DEFAULT_BATCH_SIZE, 16)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    engine: str = typer.Option("local", help="local: this process; ray: Ray Data with a pool of model actors."),
    ray_address: Optional[str] = typer.Option(
        None, envvar="RAY_ADDRESS", help="Ray cluster to join (default: start a local Ray instance)."),
    actors: Optional[int] = typer.Option(None, min=1, help="Ray engine: model actors (default: one per CPU)."),
    runtime: str = typer.Option(
        "auto", help="Encoder runtime: auto (onnx when ONNX Runtime is installed and the graph can be "
        "cached, else torch); torch; onnx (ONNX Runtime fp32, same labels as torch); onnx-int8 (int8, about 1.7x "
        "faster, a few labels change: checked once per model on the bundled dev sets, fp32 ONNX if it fails). "
        "Graphs are cached in the model directory."),
) -> None:
    """Score articles into a predictions file. Exit 0: all scored; 2: some failed; 1: fatal error."""
    from sourcemark.model.annotator import Annotator, ModelLoadError
    from sourcemark.model.batch import DEFAULT_BATCH_SIZE, score_documents, write_summary_csv
    from sourcemark.model.onnx_encoder import use_runtime

    batch_size = batch_size or DEFAULT_BATCH_SIZE
    if engine not in ("local", "ray"):
        typer.echo(f"error: --engine must be local or ray, not {engine!r}", err=True)
        raise typer.Exit(1)
    try:
        annotator = Annotator.load(model)
        runtime = use_runtime(annotator, model, runtime, notice=lambda m: typer.echo(m, err=True))
    except (ModelLoadError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1)
    except OSError as exc:  # --runtime onnx asked for by name, and its graph cannot be written
        typer.echo(f"error: runtime {runtime}: cannot cache the ONNX graph in {model}: {exc}", err=True)
        raise typer.Exit(1)
    try:
        if engine == "ray":
            from sourcemark.model.ray_engine import RayUnavailable, score_documents_ray

            del annotator  # each Ray actor loads its own copy
            try:
                stats = score_documents_ray(model, inputs, out, errors, max_chars=max_chars,
                                            batch_size=batch_size, actors=actors, address=ray_address,
                                            progress=not quiet, runtime=runtime)
            except RayUnavailable as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1)
        else:
            stats = score_documents(annotator, inputs, out, errors, max_chars=max_chars,
                                    batch_size=batch_size, progress=not quiet)
        if summary is not None:
            write_summary_csv(out, summary)
    except OSError as exc:
        typer.echo(f"error: cannot write output: {exc}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"scored {stats.scored}, skipped {stats.skipped} (already in {out}), failed {stats.failed} "
        f"in {stats.seconds:.1f}s ({stats.passages / max(stats.seconds, 1e-9):.0f} passages/s)",
        err=True,
    )
    if stats.failed and errors is None:
        typer.echo("some documents failed: rerun with --errors FILE to keep the reasons", err=True)
    raise typer.Exit(2 if stats.failed else 0)
