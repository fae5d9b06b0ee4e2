"""``sourcemark ls push|pull`` and ``sourcemark serve``: thin wrappers over the annotation library.

Every Label Studio problem (server down, wrong token, missing project,
mismatched config, timeout) is one ``error:`` line on stderr and exit code 1;
exit 2 means the command finished but some documents failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from sourcemark.readers import DEFAULT_MAX_CHARS

ls_app = typer.Typer(
    help="Label Studio: push articles with pre-annotations, pull annotators' corrections.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

URL_OPTION = typer.Option(None, "--url", help="Label Studio URL (default: $LABEL_STUDIO_URL or the config file).")
KEY_OPTION = typer.Option(
    None, "--api-key", help="API token (default: $LABEL_STUDIO_API_KEY or the config file; prefer those: "
    "a flag shows in the process list).")
CONFIG_OPTION = typer.Option(
    None, "--config", help="TOML file with url, api_key, timeout (default ~/.config/sourcemark/labelstudio.toml).")
TIMEOUT_OPTION = typer.Option(None, "--timeout", help="Seconds to wait for each request (default 30).")
PROJECT_OPTION = typer.Option(..., "--project", help="Project id or exact title.")


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _client(url: Optional[str], api_key: Optional[str], config: Optional[Path], timeout: Optional[float]):
    from sourcemark.annotation.client import connect, resolve_settings

    return connect(resolve_settings(url, api_key, config, timeout))


@ls_app.command("push")
def push_command(
    inputs: Optional[List[str]] = typer.Argument(
        None, help="Articles: files, directories, globs or - (scored with --model, else pushed as bare tasks)."),
    project: str = PROJECT_OPTION,
    model: Optional[Path] = typer.Option(None, "--model", help="Score INPUT with this model directory."),
    predictions: Optional[List[Path]] = typer.Option(
        None, "--predictions", help="Push a predictions file (sourcemark score --out) instead of INPUT."),
    create: bool = typer.Option(False, "--create", help="Create the project (titled --project) if missing."),
    chunk_size: int = typer.Option(50, "--chunk-size", help="Tasks per import request."),
    max_chars: int = typer.Option(DEFAULT_MAX_CHARS, help="Skip documents longer than this."),
    url: Optional[str] = URL_OPTION,
    api_key: Optional[str] = KEY_OPTION,
    config: Optional[Path] = CONFIG_OPTION,
    timeout: Optional[float] = TIMEOUT_OPTION,
) -> None:
    """Import articles as tasks with the model's predictions; re-running adds only what is missing."""
    from sourcemark.annotation.client import LabelStudioError
    from sourcemark.annotation.push import push_documents, read_predictions
    from sourcemark.documents import FormatError
    from sourcemark.readers import read_inputs

    if model is not None and predictions:
        _err("error: give --model (score INPUT) or --predictions (push a scored file), not both")
        raise typer.Exit(1)
    if predictions and inputs:
        _err("error: with --predictions, the documents come from the predictions file: drop INPUT")
        raise typer.Exit(1)
    if not predictions and not inputs:
        _err("error: nothing to push: give INPUT articles or --predictions FILE")
        raise typer.Exit(1)
    scorer, version = None, None
    if model is not None:
        from sourcemark.model.annotator import Annotator, ModelLoadError

        try:
            annotator = Annotator.load(model)
        except ModelLoadError as exc:
            _err(f"error: {exc}")
            raise typer.Exit(1)
        scorer, version = (lambda docs: list(annotator.annotate(docs, docs_per_chunk=len(docs)))), \
            annotator.model_version
    documents = read_predictions([str(p) for p in predictions]) if predictions else \
        read_inputs(list(inputs or []), max_chars=max_chars)
    try:
        with _client(url, api_key, config, timeout) as client:
            stats = push_documents(client, project, documents, scorer=scorer,
                                   model_version=version, create=create, chunk_size=chunk_size,
                                   echo=lambda m: _err(m))
    except (LabelStudioError, FormatError, ValueError, OSError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1)
    for line in stats.failed:
        _err(f"failed: {line}")
    created = " (created)" if stats.project_created else ""
    versions = ", ".join(sorted(stats.model_versions)) or "none"
    typer.echo(f"project {stats.project_id}{created}: {stats.tasks_created} task(s) created, "
               f"{stats.predictions_added} prediction(s) added to existing tasks, {stats.skipped} already up to "
               f"date, {len(stats.failed)} failed; model version(s): {versions}")
    raise typer.Exit(2 if stats.failed else 0)


@ls_app.command("pull")
def pull_command(
    project: str = PROJECT_OPTION,
    out: Path = typer.Option(..., "--out", "-o", help="Corrected documents JSONL (written atomically)."),
    url: Optional[str] = URL_OPTION,
    api_key: Optional[str] = KEY_OPTION,
    config: Optional[Path] = CONFIG_OPTION,
    timeout: Optional[float] = TIMEOUT_OPTION,
) -> None:
    """Write the submitted annotations as annotated documents and summarise what annotators changed."""
    from sourcemark.annotation.client import LabelStudioError
    from sourcemark.annotation.pull import pull_corrections, report_lines

    try:
        with _client(url, api_key, config, timeout) as client:
            report = pull_corrections(client, project, out)
    except (LabelStudioError, OSError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1)
    for line in report_lines(report, out):
        typer.echo(line)
    raise typer.Exit(2 if report.rejected else 0)


def serve_command(
    model: Path = typer.Option(..., "--model", help="The model directory to serve (sourcemark train --out)."),
    port: int = typer.Option(9090, "--port", help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (0.0.0.0 to accept other hosts)."),
    work_dir: Optional[Path] = typer.Option(
        None, "--work-dir", help="Where corrections and retrained models go (default: MODEL/../MODEL-serve)."),
    data: List[str] = typer.Option(["bundled"], "--data", help="Training data for retraining ('bundled' = corpus)."),
    dev: List[str] = typer.Option(["bundled"], "--dev", help="Dev data for retraining ('bundled' = corpus dev)."),
    retrain_every: int = typer.Option(
        0, "--retrain-every", help="Retrain after this many new annotations (0: only on Start Training)."),
    bootstrap: int = typer.Option(200, "--bootstrap", help="Bootstrap samples for the retrained model's card."),
) -> None:
    """Serve the model as a Label Studio ML backend (predictions; retraining on annotations in the background)."""
    from sourcemark.annotation.backend import BackendConfig, run
    from sourcemark.model.annotator import ModelLoadError

    config = BackendConfig(model_dir=model, work_dir=work_dir, data=list(data), dev=list(dev),
                           retrain_every=retrain_every, bootstrap=bootstrap)
    try:
        run(config, host=host, port=port)
    except (ModelLoadError, OSError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1)
