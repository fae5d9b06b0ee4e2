"""``sourcemark eval`` and ``sourcemark compare``: thin commands over the evaluation library.

The functions are plain typer commands; ``sourcemark/cli.py`` registers them
on the main app. The small ``app`` here carries the same two commands so they
can be run and tested on their own. Every expected failure (unreadable file,
bad JSONL, gold and predictions that do not pair, a missing model stage)
ends as one ``error: ...`` line on stderr and exit status 1.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import List, Optional, Sequence

import typer

from sourcemark.documents import Document, FormatError
from sourcemark.eval.pairing import EvalInputError
from sourcemark.jsonl import read_documents

MODEL_STAGE_MISSING = "--model needs the model stage (sourcemark.model); use --pred"


class EvalCommandError(Exception):
    """A problem the commands report as one line (a model that cannot be loaded, bad options)."""


def _err(message: str) -> None:
    typer.echo(message, err=True)


def load_documents(path: Path) -> list[Document]:
    """All documents of a JSONL file; FormatError names the file and line of a bad one."""
    return list(read_documents(path))


def predict_with_model(model_dir: Path, gold_docs: Sequence[Document]) -> list[Document]:
    """Let a trained model segment and label the gold texts (gold passages withheld).

    The model stage is imported only here, so the evaluation stage works
    (with ``--pred``) in installs without it.
    """
    try:
        annotator_module = importlib.import_module("sourcemark.model.annotator")
        annotator_class = annotator_module.Annotator
    except (ImportError, AttributeError):
        raise EvalCommandError(MODEL_STAGE_MISSING) from None
    load_error = getattr(annotator_module, "ModelLoadError", RuntimeError)
    bare = [Document(d.doc_id, d.text, dict(d.meta), []) for d in gold_docs]
    try:
        annotator = annotator_class.load(model_dir)
    except load_error as exc:
        raise EvalCommandError(f"cannot load the model in {model_dir}: {exc}") from None
    return list(annotator.annotate(bare))


def _system_names(preds: Sequence[Path], names: Optional[Sequence[str]]) -> list[str]:
    if names:
        if len(names) != len(preds):
            raise EvalCommandError(f"--name given {len(names)} time(s) for {len(preds)} --pred file(s)")
        chosen = list(names)
    else:
        stems = [p.stem for p in preds]
        chosen = [p.stem if stems.count(p.stem) == 1 else str(p) for p in preds]
    if len(set(chosen)) != len(chosen):
        raise EvalCommandError(f"system names must differ: {', '.join(chosen)}")
    return chosen


def run_evaluation(gold: Path, preds: Sequence[Path], *, names: Optional[Sequence[str]] = None,
                   model: Optional[Path] = None, report: Optional[Path] = None,
                   out: Path = Path("metrics.json"), seed: int = 0, bootstrap: int = 1000,
                   compare: bool = False) -> dict:
    """What both commands do: score one system (or compare several), print, write metrics and report.

    One system and ``compare`` false: an ``evaluate`` result. Otherwise a
    comparison (``{"gold", "systems"}``). Returns what was written to ``out``.
    """
    # Imported here: sklearn and matplotlib would slow every ``sourcemark`` start-up.
    from sourcemark.eval.compare import compare_systems, print_comparison, write_comparison_report
    from sourcemark.eval.metrics import evaluate
    from sourcemark.eval.report import print_summary, write_metrics, write_report

    gold_docs = load_documents(gold)
    systems: dict[str, list[Document]] = {}
    sources: dict[str, str] = {}
    for name, path in zip(_system_names(preds, names), preds):
        systems[name] = load_documents(path)
        sources[name] = str(path)
    if model is not None:
        model_name = model.name or "model"
        if model_name in systems:
            model_name = f"model:{model_name}"
        systems[model_name] = predict_with_model(model, gold_docs)
        sources[model_name] = f"model {model}"
    if not systems:
        raise EvalCommandError("nothing to score: give --pred PRED.jsonl (repeatable) or --model DIR")

    if len(systems) == 1 and not compare:
        (name, preds_docs), = systems.items()
        pred_label = sources[name]
        result = evaluate(gold_docs, preds_docs, bootstrap=bootstrap, seed=seed, gold_name=str(gold),
                          pred_name=pred_label)
        if result["unpaired_predictions"]:
            _err(f"note: {len(result['unpaired_predictions'])} prediction(s) have no gold document and "
                 "were ignored")
        print_summary(result)
        write_metrics(result, out)
        _err(f"wrote {out}")
        if report is not None:
            html_path = write_report(result, report, inputs={"gold": str(gold), "predictions": pred_label})
            _err(f"wrote {html_path}")
        return result

    comparison = compare_systems(gold_docs, systems, bootstrap=bootstrap, seed=seed, gold_name=str(gold),
                                 sources=sources)
    print_comparison(comparison)
    write_metrics(comparison, out)
    _err(f"wrote {out}")
    if report is not None:
        html_path = write_comparison_report(comparison, report)
        _err(f"wrote {html_path}")
    return comparison


def _guarded(**kwargs: object) -> None:
    try:
        run_evaluation(**kwargs)  # type: ignore[arg-type]
    except (FormatError, EvalInputError, EvalCommandError, OSError) as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None


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
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Bootstrap replicates for 95% CIs (0: none)."),
    names: Optional[List[str]] = typer.Option(
        None, "--name", help="Display name of each --pred, in order (default: file names)."),
) -> None:
    """Score predictions against gold: roles, sources, segmentation, calibration, with 95% CIs."""
    _guarded(gold=gold, preds=list(pred or []), names=names, model=model, report=report, out=out,
             seed=seed, bootstrap=bootstrap, compare=False)


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
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Bootstrap replicates for 95% CIs (0: none)."),
) -> None:
    """Several systems on the same gold, side by side: one table, one plot."""
    _guarded(gold=gold, preds=list(pred or []), names=names, model=model, report=report, out=out,
             seed=seed, bootstrap=bootstrap, compare=True)


app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Evaluation commands (also registered on the main sourcemark app).")
app.command("eval")(eval_command)
app.command("compare")(compare_command)
