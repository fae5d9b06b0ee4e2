"""Showing an agreement result: terminal lines, ``agreement.json`` and an HTML report with PNGs.

The same style as ``sourcemark eval --report`` (its CSS, tables, embedded
base64 PNGs also written beside the HTML), so a team reads both the same way.
Annotator names and document text are HTML-escaped by ``html_table``.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any, Mapping

from sourcemark.eval.plots import _error_bars, _figure, _png
from sourcemark.eval.report import CSS, fmt, fmt_ci, html_table, img_tag, write_bytes_atomic, write_metrics
from sourcemark.jsonl import atomic_output
from sourcemark.labels import ROLES

REPORT_FILE = "agreement.html"
METRICS_FILE = "agreement.json"

_COEFFICIENT_NAMES = {"cohen_kappa": "Cohen's kappa", "krippendorff_alpha": "Krippendorff's alpha"}


def headline(result: Mapping[str, Any]) -> list[tuple[str, float | None, list[float] | None]]:
    """(name, value, 95% interval) of the summary lines."""
    ci, roles, mentions = result.get("ci", {}), result["roles"], result["mentions"]
    rows = [(f"roles: {_COEFFICIENT_NAMES[roles['coefficient']]}", roles["value"], ci.get("roles.coefficient"))]
    if roles["coefficient"] != "krippendorff_alpha":
        rows.append(("roles: Krippendorff's alpha", roles["krippendorff_alpha"], ci.get("roles.krippendorff_alpha")))
    rows += [
        ("roles: observed agreement", roles["observed_agreement"], ci.get("roles.observed_agreement")),
        ("mentions: F1 between annotators (typed)", mentions["f1"], ci.get("mentions.f1")),
        ("mentions: F1, span only", mentions["span_f1"], ci.get("mentions.span_f1")),
        ("mentions: same type on matched spans", mentions["type_agreement"], ci.get("mentions.type_agreement")),
    ]
    return rows


def interpretation(result: Mapping[str, Any]) -> list[str]:
    """What the figures say, in words: the warnings, or that there is none."""
    if result["warnings"]:
        return list(result["warnings"])
    if not result.get("tasks_with_prelabel"):
        return ["No task had a model pre-label: pre-label influence cannot be measured."]
    return ["No warning sign: no annotator combines a high acceptance of the model's pre-labels "
            f"(>= {result['thresholds']['high_acceptance']:.0%}) with a low agreement with the other annotators "
            f"(< {result['thresholds']['low_agreement']:.0%}), overall or for a role or source type with at least "
            f"{result['thresholds']['min_items']} labels."]


def summary_lines(result: Mapping[str, Any]) -> list[str]:
    """The terminal summary."""
    lines = [f"{result['n_tasks']} task(s) with two or more annotators ({', '.join(result['annotators'])}); "
             f"{result['roles']['n_units']} passage unit(s) compared"]
    for name, value, interval in headline(result):
        lines.append(f"  {name:<42} {fmt(value):>6} {fmt_ci(interval)}")
    lines.append("  per role (specific agreement): " + ", ".join(
        f"{r} {fmt(v['specific_agreement'], 2)}" for r, v in result["roles"]["per_role"].items() if v["n"]))
    if result["mentions"]["per_type"]:
        lines.append("  per source type (mention F1): " + ", ".join(
            f"{t} {fmt(v['f1'], 2)}" for t, v in result["mentions"]["per_type"].items()))
    lines.append("pre-label acceptance vs agreement with the other annotators:")
    for name, row in result["prelabel_influence"].items():
        lines.append(f"  {name}: roles {fmt(row['roles']['acceptance'], 2)} vs {fmt(row['roles']['agreement'], 2)}, "
                     f"mentions {fmt(row['mentions']['acceptance'], 2)} vs {fmt(row['mentions']['agreement'], 2)}")
    lines += [f"warning: {w}" for w in result["warnings"]]
    return lines


# ----------------------------------------------------------------------------- plots

def _bars(names: list[str], values: list[float | None], intervals: list[Any], title: str, ylabel: str) -> bytes:
    shown = [v if v is not None else 0.0 for v in values]
    fig = _figure(figsize=(max(6.0, 0.9 * len(names) + 2), 4.0))
    ax = fig.add_subplot()
    ax.bar(names, shown, color="#4878a8", yerr=_error_bars(shown, intervals), capsize=4)
    for x, v in enumerate(values):
        ax.text(x, 0.02, "n/a" if v is None else f"{v:.2f}", ha="center", va="bottom",
                color="white" if v is not None and v > 0.1 else "black", fontsize=9)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=25)
    return _png(fig)


def influence_scatter(result: Mapping[str, Any]) -> bytes:
    """Acceptance of the pre-label (x) against agreement with colleagues (y), per annotator and role."""
    thresholds = result["thresholds"]
    fig = _figure(figsize=(6.4, 5.2))
    ax = fig.add_subplot()
    ax.axvspan(thresholds["high_acceptance"], 1.02, ymin=0, ymax=thresholds["low_agreement"] / 1.02,
               color="#f4c7c3", label="warning zone")
    markers = "osD^v<>px*"
    for k, (name, row) in enumerate(result["prelabel_influence"].items()):
        points = [(row["roles"], "all roles", 80)] + [(v, r, 30) for r, v in row["per_role"].items()]
        xs = [p["acceptance"] for p, _, _ in points if p["acceptance"] is not None and p["agreement"] is not None]
        ys = [p["agreement"] for p, _, _ in points if p["acceptance"] is not None and p["agreement"] is not None]
        sizes = [s for p, _, s in points if p["acceptance"] is not None and p["agreement"] is not None]
        ax.scatter(xs, ys, s=sizes, marker=markers[k % len(markers)], label=name, alpha=0.8)
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=0.8)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("share of final roles equal to the model's pre-label")
    ax.set_ylabel("share agreeing with the other annotators")
    ax.set_title("Pre-label influence (large: all roles; small: one role)")
    ax.legend(fontsize=8, loc="lower left")
    return _png(fig)


def make_plots(result: Mapping[str, Any]) -> dict[str, bytes]:
    """The report's PNGs by file name."""
    ci = result.get("ci", {})
    roles = result["roles"]
    names = list(ROLES) + ["kappa" if roles["coefficient"] == "cohen_kappa" else "alpha"]
    values = [roles["per_role"][r]["specific_agreement"] for r in ROLES] + [roles["value"]]
    intervals = [ci.get(f"roles.per_role.{r}.specific_agreement") for r in ROLES] + [ci.get("roles.coefficient")]
    out = {"role_agreement.png": _bars(names, values, intervals,
                                       "Role agreement per role, and "
                                       f"{_COEFFICIENT_NAMES[roles['coefficient']]} (95% bootstrap CI)",
                                       "specific agreement / coefficient")}
    per_type = result["mentions"]["per_type"]
    if per_type:
        types = list(per_type) + ["all", "span only"]
        out["mention_agreement.png"] = _bars(
            types, [per_type[t]["f1"] for t in per_type] + [result["mentions"]["f1"], result["mentions"]["span_f1"]],
            [ci.get(f"mentions.per_type.{t}.f1") for t in per_type] + [ci.get("mentions.f1"),
                                                                        ci.get("mentions.span_f1")],
            "Mention F1 between annotators (95% bootstrap CI)", "F1")
    out["prelabel_influence.png"] = influence_scatter(result)
    return out


# ----------------------------------------------------------------------------- HTML

def _note_and_plot(note: str, images: Mapping[str, bytes], name: str, alt: str) -> list[str]:
    """A section's closing note (escaped) and its plot, when there is one."""
    return [f'<p class="note">{html.escape(note)}</p>'] + ([img_tag(images[name], alt)] if name in images else [])


def render_html(result: Mapping[str, Any], images: Mapping[str, bytes], title: str) -> str:
    """The whole report as one HTML string, plots embedded."""
    ci = result.get("ci", {})
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
             f"</title><style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    boot = result.get("bootstrap", {})
    facts: list[tuple[str, Any]] = [
        ("tasks with two or more annotators", result["n_tasks"]),
        ("annotators", ", ".join(result["annotators"])),
        ("annotators per task", ", ".join(f"{k}: {n} task(s)" for k, n in result["annotators_per_task"].items())),
        ("tasks with a model pre-label", result["tasks_with_prelabel"]),
        ("passage units compared", result["roles"]["n_units"]),
    ]
    if boot.get("replicates"):
        facts.append(("confidence intervals", f"{boot['level']:.0%} percentile bootstrap over documents, "
                                              f"{boot['replicates']} replicates, seed {boot['seed']}"))
    parts.append(html_table(["", ""], facts))

    parts.append("<h2>What it says</h2>")
    parts += [f"<p>{html.escape(line)}</p>" for line in interpretation(result)]

    parts.append("<h2>Summary</h2>")
    parts.append(html_table(["metric", "value", "95% CI"], [(n, v, fmt_ci(i)) for n, v, i in headline(result)]))

    parts.append("<h2>Roles</h2>")
    roles = result["roles"]
    parts.append(html_table(["role", "specific agreement", "95% CI", "labels compared"], [
        (r, v["specific_agreement"], fmt_ci(ci.get(f"roles.per_role.{r}.specific_agreement")), v["n"])
        for r, v in roles["per_role"].items()]))
    parts += _note_and_plot("Units: the text cut at every annotator's passage boundaries (passages, when "
                            "annotators kept the same ones). Specific agreement for a role: of the units one "
                            "annotator gave that role, the share the other annotator gave it too (2 n_rr / "
                            "(n_r. + n_.r) over annotator pairs).", images, "role_agreement.png",
                            "specific agreement per role")
    first, second = ("first annotator of a pair", "second annotator")
    if roles["coefficient"] == "cohen_kappa":
        first, second = result["annotators"]
    parts.append(f"<p>Pairs of labels (rows: {html.escape(first)}, columns: {html.escape(second)}):</p>")
    parts.append(html_table(["", *ROLES], [(r, *row) for r, row in zip(ROLES, roles["pair_confusion"])]))

    parts.append("<h2>Source mentions</h2>")
    m = result["mentions"]
    rows = [(t, v["f1"], fmt_ci(ci.get(f"mentions.per_type.{t}.f1")), v["matched"], v["n"])
            for t, v in m["per_type"].items()]
    rows.append(("all (typed)", m["f1"], fmt_ci(ci.get("mentions.f1")), m["matched"], m["n"]))
    rows.append(("all (span only)", m["span_f1"], fmt_ci(ci.get("mentions.span_f1")), m["span_matched"], m["n"]))
    parts.append(html_table(["type", "F1", "95% CI", "matched pairs", "mentions"], rows))
    parts += _note_and_plot("Mentions of two annotators match when their spans overlap and (typed) their types "
                            "are equal, one to one: the evaluation's rule.", images, "mention_agreement.png",
                            "mention F1 per type")

    parts.append("<h2>Pre-label influence</h2>")
    influence_rows = []
    for name, row in result["prelabel_influence"].items():
        key = f"annotators.{name}"
        influence_rows.append((name, "all roles", row["roles"]["acceptance"], fmt_ci(ci.get(f"{key}.role_acceptance")),
                               row["roles"]["agreement"], fmt_ci(ci.get(f"{key}.role_agreement")), row["roles"]["n"]))
        influence_rows += [(name, f"role {r}", v["acceptance"], "", v["agreement"], "", v["n"])
                           for r, v in row["per_role"].items()]
        influence_rows.append((name, "all mentions", row["mentions"]["acceptance"],
                               fmt_ci(ci.get(f"{key}.mention_acceptance")), row["mentions"]["agreement"],
                               fmt_ci(ci.get(f"{key}.mention_agreement")), row["mentions"]["n"]))
        influence_rows += [(name, f"type {t}", v["acceptance"], "", v["agreement"], "", v["n"])
                           for t, v in row["per_type"].items()]
    parts.append(html_table(["annotator", "labels", "kept the pre-label", "95% CI", "agrees with others", "95% CI",
                             "n"], influence_rows))
    parts += _note_and_plot("Kept the pre-label: share of the annotator's final labels equal to the model's "
                            "pre-label. Agrees with others: share of the same annotator's labels that another "
                            "annotator gave too. Accepting pre-labels while disagreeing with colleagues means the "
                            "pre-label, not the text, may be deciding.", images, "prelabel_influence.png",
                            "pre-label acceptance against agreement")
    parts.append("</body></html>\n")
    return "".join(parts)


def write_report(result: Mapping[str, Any], report_dir: str | os.PathLike[str], *,
                 title: str = "sourcemark annotator agreement") -> Path:
    """Write ``agreement.html`` (plots embedded), ``agreement.json`` and the PNGs; return the HTML path."""
    directory = Path(report_dir)
    directory.mkdir(parents=True, exist_ok=True)
    images = make_plots(result)
    for name, png in images.items():
        write_bytes_atomic(directory / name, png)
    write_metrics(result, directory / METRICS_FILE)
    target = directory / REPORT_FILE
    with atomic_output(target) as handle:
        handle.write(render_html(result, images, title))
    return target

