"""What ``sourcemark eval`` and ``sourcemark compare`` do, as one library call.

:func:`run_evaluation` reads gold and predictions (or lets a trained model
predict), scores one system or compares several, prints the table and writes
the metrics and the report. Expected failures surface as exceptions for the
command to report: FormatError (a bad JSONL line), EvalInputError (gold and
predictions that do not pair), OSError (an unreadable or unwritable file) and
EvalCommandError (bad options, nothing to score, a model that cannot be used).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from sourcemark.command_errors import CommandError, err
from sourcemark.documents import Document
from sourcemark.eval.bootstrap import DEFAULT_REPLICATES
from sourcemark.eval.compare import compare_systems, print_comparison, write_comparison_report
from sourcemark.eval.metrics import evaluate
from sourcemark.eval.report import print_summary, write_metrics, write_report
from sourcemark.jsonl import read_documents

MODEL_STAGE_MISSING = "--model needs the model stage (sourcemark.model); use --pred"


class EvalCommandError(CommandError):
    """A problem the commands report as one line (a model that cannot be loaded, bad options)."""


def load_documents(path: Path) -> list[Document]:
    """All documents of a JSONL file; FormatError names the file and line of a bad one."""
    return list(read_documents(path))


def predict_with_model(model_dir: Path, gold_docs: Sequence[Document]) -> list[Document]:
    """Let a trained model segment and label the gold texts (gold passages withheld)."""
    try:
        # Imported here: scoring ``--pred`` files must work in an install without the model stage.
        from sourcemark.model.annotator import Annotator, ModelLoadError
    except ImportError:
        raise EvalCommandError(MODEL_STAGE_MISSING) from None
    bare = [Document(d.doc_id, d.text, dict(d.meta), []) for d in gold_docs]
    try:
        annotator = Annotator.load(model_dir)
    except ModelLoadError as exc:
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
                   out: Path = Path("metrics.json"), seed: int = 0, bootstrap: int = DEFAULT_REPLICATES,
                   compare: bool = False) -> dict:
    """What both commands do: score one system (or compare several), print, write metrics and report.

    One system and ``compare`` false: an ``evaluate`` result. Otherwise a
    comparison (``{"gold", "systems"}``). Returns what was written to ``out``.
    """
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
            err(f"note: {len(result['unpaired_predictions'])} prediction(s) have no gold document and "
                "were ignored")
        print_summary(result)
        write_metrics(result, out)
        err(f"wrote {out}")
        if report is not None:
            html_path = write_report(result, report, inputs={"gold": str(gold), "predictions": pred_label})
            err(f"wrote {html_path}")
        return result

    comparison = compare_systems(gold_docs, systems, bootstrap=bootstrap, seed=seed, gold_name=str(gold),
                                 sources=sources)
    print_comparison(comparison)
    write_metrics(comparison, out)
    err(f"wrote {out}")
    if report is not None:
        html_path = write_comparison_report(comparison, report)
        err(f"wrote {html_path}")
    return comparison
