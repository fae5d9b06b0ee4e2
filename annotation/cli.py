"""``sourcemark ls push|pull|agreement|review`` and ``sourcemark serve``: thin wrappers over the annotation library.

Every Label Studio problem (server down, wrong token, missing project,
mismatched config, timeout) is one ``error:`` line on stderr and exit code 1;
exit 2 means the command finished but some documents failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from sourcemark.annotation.adjudication import push_review
from sourcemark.annotation.agreement import measure_agreement
from sourcemark.annotation.agreement_report import summary_lines, write_report
from sourcemark.annotation.backend import BackendConfig, run
from sourcemark.annotation.client import LabelStudioClient, LabelStudioError, connect, resolve_settings
from sourcemark.annotation.pull import pull_corrections, report_lines
from sourcemark.annotation.push import DEFAULT_CHUNK, PushJob, check_job, run_push
from sourcemark.annotation.team import project_teams
from sourcemark.bundled import BUNDLED
from sourcemark.command_errors import err, reports_errors
from sourcemark.documents import FormatError
from sourcemark.eval.bootstrap import DEFAULT_REPLICATES
from sourcemark.model.annotator import ModelLoadError
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


def _client(url: Optional[str], api_key: Optional[str], config: Optional[Path],
            timeout: Optional[float]) -> LabelStudioClient:
    return connect(resolve_settings(url, api_key, config, timeout))


@ls_app.command("push")
@reports_errors(LabelStudioError, ModelLoadError, FormatError, ValueError, OSError)
def push_command(
    inputs: Optional[List[str]] = typer.Argument(
        None, help="Articles: files, directories, globs or - (scored with --model, else pushed as bare tasks)."),
    project: str = PROJECT_OPTION,
    model: Optional[Path] = typer.Option(None, "--model", help="Score INPUT with this model directory."),
    predictions: Optional[List[Path]] = typer.Option(
        None, "--predictions", help="Push a predictions file (sourcemark score --out) instead of INPUT."),
    create: bool = typer.Option(False, "--create", help="Create the project (titled --project) if missing."),
    chunk_size: int = typer.Option(DEFAULT_CHUNK, "--chunk-size", help="Tasks per import request."),
    max_chars: int = typer.Option(DEFAULT_MAX_CHARS, help="Skip documents longer than this."),
    overlap: Optional[int] = typer.Option(
        None, "--overlap", help="Annotators per task: sets the project's maximum annotations to N for every task."),
    url: Optional[str] = URL_OPTION,
    api_key: Optional[str] = KEY_OPTION,
    config: Optional[Path] = CONFIG_OPTION,
    timeout: Optional[float] = TIMEOUT_OPTION,
) -> None:
    """Import articles as tasks with the model's predictions; re-running adds only what is missing."""
    job = PushJob(project=project, inputs=tuple(inputs or ()), predictions=tuple(str(p) for p in predictions or ()),
                  model_dir=model, create=create, chunk_size=chunk_size, max_chars=max_chars, overlap=overlap)
    check_job(job)  # before connecting: a bad combination needs no server
    with _client(url, api_key, config, timeout) as client:
        stats = run_push(client, job, echo=err)
    for line in stats.failed:
        err(f"failed: {line}")
    created = " (created)" if stats.project_created else ""
    versions = ", ".join(sorted(stats.model_versions)) or "none"
    if stats.overlap is not None:
        err(f"project {stats.project_id}: each task is meant for {stats.overlap} annotator(s)")
    typer.echo(f"project {stats.project_id}{created}: {stats.tasks_created} task(s) created, "
               f"{stats.predictions_added} prediction(s) added to existing tasks, {stats.skipped} already up to "
               f"date, {len(stats.failed)} failed; model version(s): {versions}")
    raise typer.Exit(2 if stats.failed else 0)


@ls_app.command("pull")
@reports_errors(LabelStudioError, OSError)
def pull_command(
    project: str = PROJECT_OPTION,
    out: Path = typer.Option(..., "--out", "-o", help="Corrected documents JSONL (written atomically)."),
    conflicts: Optional[Path] = typer.Option(
        None, "--conflicts", help="Where tasks on which annotators disagree are listed (default: OUT's name "
        "with .conflicts.jsonl; written when some task has several annotators)."),
    url: Optional[str] = URL_OPTION,
    api_key: Optional[str] = KEY_OPTION,
    config: Optional[Path] = CONFIG_OPTION,
    timeout: Optional[float] = TIMEOUT_OPTION,
) -> None:
    """Write the submitted annotations as annotated documents and summarise what annotators changed."""
    with _client(url, api_key, config, timeout) as client:
        report = pull_corrections(client, project, out, conflicts)
    for line in report_lines(report, out):
        typer.echo(line)
    raise typer.Exit(2 if report.rejected else 0)


@ls_app.command("agreement")
@reports_errors(LabelStudioError, ValueError, OSError)
def agreement_command(
    project: str = PROJECT_OPTION,
    report: Optional[Path] = typer.Option(
        None, "--report", help="Write agreement.html, agreement.json and the PNGs into this directory."),
    bootstrap: int = typer.Option(DEFAULT_REPLICATES, "--bootstrap", help="Bootstrap replicates (0: no CIs)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    url: Optional[str] = URL_OPTION,
    api_key: Optional[str] = KEY_OPTION,
    config: Optional[Path] = CONFIG_OPTION,
    timeout: Optional[float] = TIMEOUT_OPTION,
) -> None:
    """Agreement between annotators of the same tasks (roles, mentions) and how much the pre-labels steer them."""
    with _client(url, api_key, config, timeout) as client:
        _, teams, problems = project_teams(client, project)
    result = measure_agreement(teams, bootstrap=bootstrap, seed=seed)
    for problem in problems:
        err(f"left out: {problem}")
    for line in summary_lines(result):
        typer.echo(line)
    if report is not None:
        typer.echo(f"report: {write_report(result, report)}")


@ls_app.command("review")
@reports_errors(LabelStudioError, ValueError, OSError)
def review_command(
    project: str = PROJECT_OPTION,
    conflicts: Path = typer.Option(..., "--conflicts", help="The conflicts file `ls pull` wrote for --project."),
    to: str = typer.Option(..., "--to", help="The review project (id or title) the conflicted tasks go to."),
    create: bool = typer.Option(False, "--create", help="Create the review project (titled --to) if missing."),
    url: Optional[str] = URL_OPTION,
    api_key: Optional[str] = KEY_OPTION,
    config: Optional[Path] = CONFIG_OPTION,
    timeout: Optional[float] = TIMEOUT_OPTION,
) -> None:
    """Push each conflicted document to a review project, one prediction per annotator, for a lead to resolve."""
    with _client(url, api_key, config, timeout) as client:
        stats = push_review(client, project, conflicts, to, create=create)
    for doc_id in stats.missing:
        err(f"not found in project {project}: {doc_id}")
    where = stats.push.project_id if stats.push else to
    typer.echo(f"review project {where}: {stats.documents} conflicted document(s), one prediction per annotator; "
               f"submit the resolved version, then `sourcemark ls pull --project {where}`")


@reports_errors(ModelLoadError, OSError)
def serve_command(
    model: Path = typer.Option(..., "--model", help="The model directory to serve (sourcemark train --out)."),
    port: int = typer.Option(9090, "--port", help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (0.0.0.0 to accept other hosts)."),
    work_dir: Optional[Path] = typer.Option(
        None, "--work-dir", help="Where corrections and retrained models go (default: MODEL/../MODEL-serve)."),
    data: List[str] = typer.Option([BUNDLED], "--data", help="Training data for retraining ('bundled' = corpus)."),
    dev: List[str] = typer.Option([BUNDLED], "--dev", help="Dev data for retraining ('bundled' = corpus dev)."),
    retrain_every: int = typer.Option(
        0, "--retrain-every", help="Retrain after this many new annotations (0: only on Start Training)."),
    bootstrap: int = typer.Option(200, "--bootstrap", help="Bootstrap samples for the retrained model's card."),
) -> None:
    """Serve the model as a Label Studio ML backend (predictions; retraining on annotations in the background)."""
    config = BackendConfig(model_dir=model, work_dir=work_dir, data=list(data), dev=list(dev),
                           retrain_every=retrain_every, bootstrap=bootstrap)
    run(config, host=host, port=port)
