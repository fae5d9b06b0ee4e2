"""The ``sourcemark`` command. Commands are thin: parse arguments, call one library function, print.

Stage commands (eval, train, score, ls, serve) live beside their stage and are
registered here, so this file stays the one place that lists them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from sourcemark import __version__
from sourcemark.annotation import cli as annotation_cli
from sourcemark.command_errors import err
from sourcemark.eval import cli as eval_cli
from sourcemark.readers import DEFAULT_MAX_CHARS
from sourcemark.scoring import cli as scoring_cli
from sourcemark.segment_job import NothingSegmented, segment_inputs
from sourcemark.training import cli as training_cli
from sourcemark.validation import ERROR, validate_file

app = typer.Typer(
    help="Tag passages of conflict reporting as claim, attributed report, analysis, reader comment "
    "or other, and flag every attributed source.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sourcemark {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """sourcemark: passage roles and attributed sources in conflict reporting."""


@app.command()
def validate(
    files: List[Path] = typer.Argument(..., help="Annotated-document JSONL files (FORMATS.md)."),
    allow_unlabelled: bool = typer.Option(
        False, "--allow-unlabelled", help="Accept passages without a label (segmenter output)."
    ),
    quiet_warnings: bool = typer.Option(False, "--no-warnings", help="Print errors only."),
) -> None:
    """Check annotated-document files: syntax, fields, label ids, offsets, order. Exit 1 on any error."""
    errors = warnings = 0
    for path in files:
        for problem in validate_file(path, require_label=not allow_unlabelled):
            if problem.level == ERROR:
                errors += 1
            else:
                warnings += 1
                if quiet_warnings:
                    continue
            typer.echo(str(problem))
    err(f"{len(files)} file(s): {errors} error(s), {warnings} warning(s)")
    raise typer.Exit(1 if errors else 0)


@app.command()
def segment(
    inputs: List[str] = typer.Argument(..., help="Files, directories, glob patterns or - for stdin."),
    out: str = typer.Option("-", "--out", "-o", help="Output JSONL (default: stdout)."),
    max_chars: int = typer.Option(DEFAULT_MAX_CHARS, help="Skip documents longer than this."),
) -> None:
    """Split documents into passages (with the comment-section flag) and write them as JSONL."""
    try:
        stats = segment_inputs(inputs, out, max_chars, on_error=lambda e: err(f"error: {e}"))
    except NothingSegmented as exc:
        err(str(exc))
        raise typer.Exit(1) from None
    err(f"segmented {stats.written} document(s), {stats.failed} failed")
    raise typer.Exit(2 if stats.failed else 0)


def _register_stages() -> None:
    """Add the commands that live with their stage."""
    app.command("train")(training_cli.train_command)
    app.command("baseline")(training_cli.baseline_command)
    app.command("adapt")(training_cli.adapt_command)
    app.command("score")(scoring_cli.score_command)
    app.command("eval")(eval_cli.eval_command)
    app.add_typer(annotation_cli.ls_app, name="ls", help="Label Studio: push pre-labelled articles, pull corrections.")
    app.command("serve")(annotation_cli.serve_command)
    app.command("compare")(eval_cli.compare_command)


_register_stages()


def main() -> None:
    """Console-script entry point."""
    app(prog_name="sourcemark")


if __name__ == "__main__":
    sys.exit(main())
