"""Showing an ``evaluate`` result: a terminal table, ``metrics.json`` and a self-contained HTML report.

The HTML embeds its plots as base64 PNGs so the one file can be mailed or
attached to an issue and still show everything; the PNGs are also written
beside it for slides and READMEs. Every piece of document text is
HTML-escaped: articles and comments are untrusted input.
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path
from typing import AbstractSet, Any, Mapping, Sequence

from rich.console import Console
from rich.table import Table

from sourcemark.eval import plots
from sourcemark.jsonl import atomic_output
from sourcemark.labels import ROLES

REPORT_FILE = "report.html"
WORST_SHOWN = 50


def fmt(value: float | None, digits: int = 3) -> str:
    """A score for people: fixed digits, ``n/a`` when undefined."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def fmt_ci(ci: Sequence[float] | None, digits: int = 3) -> str:
    """``[low, high]`` or an empty string when there is no interval."""
    return "" if not ci else f"[{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def headline(result: Mapping[str, Any]) -> list[tuple[str, float | None, list[float] | None]]:
    """The summary lines: (name, value, 95% interval or None)."""
    ci = result.get("ci", {})
    rows: list[tuple[str, float | None, list[float] | None]] = [
        ("role macro-F1", result["roles"]["macro_f1"], ci.get("roles.macro_f1")),
        ("role accuracy", result["roles"]["accuracy"], ci.get("roles.accuracy")),
        ("source mention precision", result["sources"]["precision"], ci.get("sources.precision")),
        ("source mention recall", result["sources"]["recall"], ci.get("sources.recall")),
        ("source mention F1", result["sources"]["f1"], ci.get("sources.f1")),
        ("source mention F1, span only", result["mention_spans"]["f1"], ci.get("mention_spans.f1")),
        ("type accuracy on matched spans", result["mention_spans"]["type_accuracy"],
         ci.get("mention_spans.type_accuracy")),
        ("source-type set F1 (per passage)", result["source_type_sets"]["f1"], ci.get("source_type_sets.f1")),
        ("segmentation boundary F1", result["segmentation"]["f1"], ci.get("segmentation.f1")),
    ]
    if result.get("calibration"):
        rows.append(("calibration ECE (lower is better)", result["calibration"]["ece"],
                     ci.get("calibration.ece")))
    return rows


# --------------------------------------------------------------------------- terminal

def summary_tables(result: Mapping[str, Any], max_documents: int = 10) -> list[Table]:
    """Rich tables: per-role scores, headline numbers, and the weakest documents."""
    ci = result.get("ci", {})
    roles = Table(title=f"Roles ({result['n_gold_passages']} gold passages, {result['n_documents']} documents)")
    # Short headers and no wrapping: the table must stay readable in an 80-column terminal.
    for column in ("role", "prec", "rec", "F1", "95% CI of F1", "gold", "pred"):
        roles.add_column(column, justify="left" if column == "role" else "right", no_wrap=True)
    for role in ROLES:
        r = result["roles"]["per_role"][role]
        roles.add_row(role, fmt(r["precision"]), fmt(r["recall"]), fmt(r["f1"]),
                      fmt_ci(ci.get(f"roles.per_role.{role}.f1")), str(r["support"]), str(r["predicted"]))

    summary = Table(title="Summary")
    summary.add_column("metric")
    summary.add_column("value", justify="right", no_wrap=True)
    summary.add_column("95% CI", justify="right", no_wrap=True)
    for name, value, interval in headline(result):
        summary.add_row(name, fmt(value), fmt_ci(interval))

    docs = Table(title="Weakest documents (by role accuracy)")
    for column in ("doc_id", "passages", "errors", "accuracy", "macro-F1", "source F1", "boundary F1"):
        docs.add_column(column, justify="left" if column == "doc_id" else "right",
                        no_wrap=column != "doc_id", overflow="fold")
    for row in weakest_documents(result["documents"])[:max_documents]:
        docs.add_row(row["doc_id"], str(row["passages"]), str(row["errors"]), fmt(row["accuracy"]),
                     fmt(row["macro_f1"]), fmt(row["source_f1"]), fmt(row["boundary_f1"]))
    return [roles, summary, docs]


def print_summary(result: Mapping[str, Any], console: Console | None = None) -> None:
    """Print the compact tables to the terminal (stdout unless ``console`` says otherwise)."""
    console = console or Console()
    for table in summary_tables(result):
        console.print(table)


def weakest_documents(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Per-document rows, lowest role accuracy first (documents without passages last)."""
    return sorted(rows, key=lambda r: (r["accuracy"] is None, r["accuracy"] if r["accuracy"] is not None
                                       else 0.0, r["doc_id"]))


def write_metrics(result: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write the result as indented JSON, atomically (strict JSON: no NaN)."""
    with atomic_output(path) as handle:
        handle.write(json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


# --------------------------------------------------------------------------- HTML

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;
color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;vertical-align:top}
th{background:#f3f3f3;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.text{max-width:600px;white-space:pre-wrap}img{max-width:100%;display:block;margin:.5em 0}
.note{color:#666;font-size:.85em}
"""


def img_tag(png: bytes, alt: str) -> str:
    """An ``<img>`` carrying the PNG itself as a base64 data URI."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _cell(value: Any, text: bool = False) -> str:
    if isinstance(value, float) or value is None:
        return f'<td class="num">{fmt(value)}</td>'
    if isinstance(value, int):
        return f'<td class="num">{value}</td>'
    css = ' class="text"' if text else ""
    return f"<td{css}>{html.escape(str(value))}</td>"


def html_table(header: Sequence[str], rows: Sequence[Sequence[Any]],
               text_columns: AbstractSet[int] = frozenset()) -> str:
    """A plain HTML table; strings are escaped, floats formatted; ``text_columns`` wrap long text."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(v, i in text_columns) for i, v in enumerate(row)) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write binary data through a temporary file (atomic_output is text-only)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def make_plots(result: Mapping[str, Any]) -> dict[str, bytes]:
    """The report's PNGs by file name; the reliability diagram only when predictions carry probs."""
    out = {
        "confusion_matrix.png": plots.confusion_heatmap(result["roles"]["confusion_matrix"]),
        "role_f1.png": plots.role_f1_bars(result),
    }
    if result.get("calibration"):
        out["reliability.png"] = plots.reliability_diagram(result["calibration"])
    return out


def render_html(result: Mapping[str, Any], images: Mapping[str, bytes], title: str,
                inputs: Mapping[str, str] | None = None) -> str:
    """The whole report as one HTML string, plots embedded."""
    ci = result.get("ci", {})
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
             f"</title><style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    facts = [("documents", result["n_documents"]), ("gold passages", result["n_gold_passages"]),
             ("predicted passages", result["n_pred_passages"])]
    facts += [(k, v) for k, v in (inputs or {}).items()]
    boot = result.get("bootstrap", {})
    if boot.get("replicates"):
        facts.append(("confidence intervals", f"{boot['level']:.0%} percentile bootstrap over documents, "
                                              f"{boot['replicates']} replicates, seed {boot['seed']}"))
    parts.append(html_table(["", ""], facts))

    parts.append("<h2>Summary</h2>")
    parts.append(html_table(["metric", "value", "95% CI"],
                            [(n, v, fmt_ci(i)) for n, v, i in headline(result)]))

    parts.append("<h2>Roles</h2>")
    role_rows = []
    for role in ROLES:
        r = result["roles"]["per_role"][role]
        role_rows.append((role, r["precision"], r["recall"], r["f1"], fmt_ci(ci.get(f"roles.per_role.{role}.f1")),
                          r["support"], r["predicted"]))
    parts.append(html_table(["role", "precision", "recall", "F1", "95% CI", "support", "predicted"], role_rows))
    parts.append('<p class="note">Each gold passage takes the predicted role covering most of its '
                 "non-whitespace characters (none: other). n/a: undefined (never predicted, or absent from "
                 "gold); a role absent from both is left out of the macro-F1.</p>")
    if "role_f1.png" in images:
        parts.append(img_tag(images["role_f1.png"], "F1 per role with 95% confidence intervals"))
    if "confusion_matrix.png" in images:
        parts.append(img_tag(images["confusion_matrix.png"], "confusion matrix of roles"))

    parts.append("<h2>Sources</h2>")
    s = result["sources"]
    type_rows = [(t, v["precision"], v["recall"], v["f1"], v["n_gold"], v["n_pred"], v["matched"])
                 for t, v in s["per_type"].items()]
    type_rows.append(("all", s["precision"], s["recall"], s["f1"], s["n_gold"], s["n_pred"], s["matched"]))
    parts.append(html_table(["type", "precision", "recall", "F1", "gold", "predicted", "matched"], type_rows))

    calibration = result.get("calibration")
    parts.append("<h2>Calibration</h2>")
    if calibration:
        parts.append(f"<p>Expected calibration error {fmt(calibration['ece'])} over {calibration['n']} "
                     f"passages ({calibration['n_bins']} equal-width bins); {calibration['n_without_probs']} "
                     "passages had no probability.</p>")
        if "reliability.png" in images:
            parts.append(img_tag(images["reliability.png"], "reliability diagram"))
    else:
        parts.append("<p>The predictions carry no <code>probs</code>: no calibration to show.</p>")

    parts.append("<h2>Documents</h2>")
    doc_rows = [(r["doc_id"], r["passages"], r["errors"], r["accuracy"], r["macro_f1"], r["source_f1"],
                 r["boundary_f1"], r["ece"]) for r in weakest_documents(result["documents"])]
    parts.append(html_table(["doc_id", "passages", "errors", "accuracy", "macro-F1", "source F1",
                             "boundary F1", "ECE"], doc_rows))

    worst = list(result.get("worst_passages", []))[:WORST_SHOWN]
    parts.append(f"<h2>Worst passages ({len(worst)} shown)</h2>")
    if worst:
        parts.append('<p class="note">Wrongly labelled gold passages, most confident mistakes first.</p>')
        parts.append(html_table(["doc_id", "offsets", "gold", "predicted", "confidence", "text"], [
            (w["doc_id"], f"{w['start']}-{w['end']}", w["gold"], w["pred"], w["confidence"], w["text"])
            for w in worst], text_columns={5}))
    else:
        parts.append("<p>No passage is wrongly labelled.</p>")
    parts.append("</body></html>\n")
    return "".join(parts)


def write_report(result: Mapping[str, Any], report_dir: str | os.PathLike[str], *,
                 title: str = "sourcemark evaluation", inputs: Mapping[str, str] | None = None) -> Path:
    """Write ``report.html`` (plots embedded) and the PNGs into ``report_dir``; return the HTML path."""
    directory = Path(report_dir)
    directory.mkdir(parents=True, exist_ok=True)
    images = make_plots(result)
    for name, png in images.items():
        write_bytes_atomic(directory / name, png)
    target = directory / REPORT_FILE
    with atomic_output(target) as handle:
        handle.write(render_html(result, images, title, inputs))
    return target
