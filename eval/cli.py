"""``sourcemark eval`` and ``sourcemark compare``: thin commands over :func:`~sourcemark.eval.run.run_evaluation`.

The functions are plain typer commands; ``sourcemark/cli.py`` registers them
on the main app. The small ``app`` here carries the same two commands so they
can be run and tested on their own. Every expected failure (unreadable file,
bad JSONL, gold and predictions that do not pair, a missing model stage)
ends as one ``error: ...`` line on stderr and exit status 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from sourcemark.command_errors import reports_errors
from sourcemark.documents import FormatError
from sourcemark.eval.bootstrap import DEFAULT_REPLICATES
from sourcemark.eval.pairing import EvalInputError
from sourcemark.eval.run import run_evaluation

# EvalCommandError is a CommandError, which reports_errors always reports.
EXPECTED_ERRORS = (FormatError, EvalInputError, OSError)


@reports_errors(*EXPECTED_ERRORS)
def eval_command(
    gold: Path = typer.Option(..., "--gold", help="Gold annotated documents (JSONL, FORMATS.md)."),
    pred: Optional[List[Path]] = typer.Option(
        None, "--pred", help="Predictions (JSONL). Repeat to compare several systems."),
    model: Optional[Path] = typer.Option(
        None, "--model", help="Score the gold texts with this trained model first (it segments them)."),
    report: Optional[Path] = typer.Option(
        None, "--report", help="Write a self-contained HTML report with plots into this directory."),
    out: Path = typer.Option(Path("metrics.json"), "--out", help="Where to write the metrics as JSON."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    bootstrap: int = typer.Option(
        DEFAULT_REPLICATES, "--bootstrap", help="Bootstrap replicates for 95% CIs (0: none)."),
    names: Optional[List[str]] = typer.Option(
        None, "--name", help="Display name of each --pred, in order (default: file names)."),
) -> None:
    """Score predictions against gold: roles, sources, segmentation, calibration, with 95% CIs."""
    run_evaluation(gold, list(pred or []), names=names, model=model, report=report, out=out, seed=seed,
                   bootstrap=bootstrap, compare=False)


@reports_errors(*EXPECTED_ERRORS)
def compare_command(
    gold: Path = typer.Option(..., "--gold", help="Gold annotated documents (JSONL, FORMATS.md)."),
    pred: Optional[List[Path]] = typer.Option(None, "--pred", help="Predictions of one system (repeatable)."),
    names: Optional[List[str]] = typer.Option(
        None, "--name", help="Display name of each --pred, in order (default: file names)."),
    model: Optional[Path] = typer.Option(None, "--model", help="Also score the gold texts with this model."),
    report: Optional[Path] = typer.Option(
        None, "--report", help="Write a self-contained HTML comparison into this directory."),
    out: Path = typer.Option(Path("metrics.json"), "--out", help="Where to write the metrics as JSON."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap (the same resamples for all)."),
    bootstrap: int = typer.Option(
        DEFAULT_REPLICATES, "--bootstrap", help="Bootstrap replicates for 95% CIs (0: none)."),
) -> None:
    """Several systems on the same gold, side by side: one table, one plot."""
    run_evaluation(gold, list(pred or []), names=names, model=model, report=report, out=out, seed=seed,
                   bootstrap=bootstrap, compare=True)


app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Evaluation commands (also registered on the main sourcemark app).")
app.command("eval")(eval_command)
app.command("compare")(compare_command)
