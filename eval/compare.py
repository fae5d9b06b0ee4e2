"""Several systems scored on the same gold: one table, one plot.

Each system goes through the same :func:`~sourcemark.eval.metrics.evaluate`
with the same seed, so their bootstrap intervals are computed on the same
resamples of documents and are comparable side by side.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from rich.console import Console
from rich.table import Table

from sourcemark.documents import Document
from sourcemark.eval import plots
from sourcemark.eval.bootstrap import DEFAULT_REPLICATES
from sourcemark.eval.metrics import evaluate
from sourcemark.eval.report import (
    REPORT_FILE, CSS, fmt, fmt_ci, html_table, img_tag, write_bytes_atomic,
)
from sourcemark.jsonl import atomic_output
from sourcemark.labels import ROLES

COMPARE_PLOT = "compare_roles.png"


def compare_systems(
    gold_docs: Sequence[Document],
    systems: Mapping[str, Sequence[Document]],
    *,
    bootstrap: int = DEFAULT_REPLICATES,
    seed: int = 0,
    gold_name: str = "gold",
    sources: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``{"gold": gold_name, "systems": {name: evaluate(...) result}}``, systems in the given order.

    Raises EvalInputError if any system cannot be paired with the gold; the
    message names the system's file from ``sources`` (name -> file), else
    the system's name.
    """
    sources = sources or {}
    results = {name: evaluate(gold_docs, preds, bootstrap=bootstrap, seed=seed, gold_name=gold_name,
                              pred_name=sources.get(name, name))
               for name, preds in systems.items()}
    return {"gold": gold_name, "systems": results}


def comparison_rows(comparison: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per system: per-role F1, macro-F1 (with CI), accuracy, mention F1, boundary F1, ECE."""
    rows = []
    for name, result in comparison["systems"].items():
        ci = result.get("ci", {})
        row: dict[str, Any] = {"system": name}
        for role in ROLES:
            row[role] = result["roles"]["per_role"][role]["f1"]
        row["macro_f1"] = result["roles"]["macro_f1"]
        row["macro_f1_ci"] = ci.get("roles.macro_f1")
        row["accuracy"] = result["roles"]["accuracy"]
        row["mention_f1"] = result["sources"]["f1"]
        row["mention_f1_ci"] = ci.get("sources.f1")
        row["boundary_f1"] = result["segmentation"]["f1"]
        row["ece"] = result["calibration"]["ece"] if result.get("calibration") else None
        rows.append(row)
    return rows


def comparison_table(comparison: Mapping[str, Any]) -> Table:
    """The one rich table of a comparison: a row per metric, a column per system.

    Metrics go down and systems across so that the table fits a terminal
    however long the metric list is; intervals sit under their value.
    """
    rows = comparison_rows(comparison)
    table = Table(title=f"Systems on {comparison['gold']}")
    table.add_column("metric", no_wrap=True)
    for r in rows:
        table.add_column(r["system"], justify="right")

    def cell(r: Mapping[str, Any], key: str) -> str:
        interval = r.get(f"{key}_ci")
        return fmt(r[key]) + (f"\n{fmt_ci(interval, 2)}" if interval else "")

    lines = [(f"{role} F1", role) for role in ROLES] + [
        ("macro-F1", "macro_f1"), ("accuracy", "accuracy"), ("mention F1", "mention_f1"),
        ("boundary F1", "boundary_f1"), ("ECE", "ece")]
    for label, key in lines:
        table.add_row(label, *(cell(r, key) for r in rows))
    return table


def print_comparison(comparison: Mapping[str, Any], console: Console | None = None) -> None:
    """Print the comparison table to the terminal."""
    (console or Console()).print(comparison_table(comparison))


def render_comparison_html(comparison: Mapping[str, Any], plot: bytes, title: str) -> str:
    """One HTML page: the table and the grouped-bar plot, embedded."""
    header = ["system", *ROLES, "macro-F1", "95% CI", "accuracy", "mention F1", "95% CI", "boundary F1", "ECE"]
    rows = [(r["system"], *(r[role] for role in ROLES), r["macro_f1"], fmt_ci(r["macro_f1_ci"]),
             r["accuracy"], r["mention_f1"], fmt_ci(r["mention_f1_ci"]), r["boundary_f1"], r["ece"])
            for r in comparison_rows(comparison)]
    first = next(iter(comparison["systems"].values()), None)
    note = ""
    if first is not None and first.get("bootstrap", {}).get("replicates"):
        b = first["bootstrap"]
        note = (f'<p class="note">95% percentile bootstrap over documents, {b["replicates"]} replicates, '
                f"seed {b['seed']}, the same resamples for every system. Role cells are F1.</p>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>Gold: {html.escape(str(comparison['gold']))}</p>"
            f"{html_table(header, rows)}{note}"
            f"{img_tag(plot, 'F1 per role and macro-F1 of each system')}</body></html>\n")


def write_comparison_report(comparison: Mapping[str, Any], report_dir: str | os.PathLike[str], *,
                            title: str = "sourcemark comparison") -> Path:
    """Write ``report.html`` (plot embedded) and the plot PNG into ``report_dir``; return the HTML path."""
    directory = Path(report_dir)
    directory.mkdir(parents=True, exist_ok=True)
    plot = plots.grouped_role_bars(comparison["systems"])
    write_bytes_atomic(directory / COMPARE_PLOT, plot)
    target = directory / REPORT_FILE
    with atomic_output(target) as handle:
        handle.write(render_comparison_html(comparison, plot, title))
    return target
