"""The evaluation plots, as PNG bytes.

Figures are drawn on matplotlib's Agg canvas directly (``Figure`` plus
``FigureCanvasAgg``) rather than through ``pyplot``: no display is needed,
and no global backend or figure state is changed for whoever imported us.
Each function returns bytes so the report can embed them (base64) and also
write them beside the HTML.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from sourcemark.labels import ROLES

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure(**kwargs: Any) -> Figure:
    # Imported here: matplotlib would slow every ``sourcemark`` start-up, which registers this stage.
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def _png(fig: Figure) -> bytes:
    # Imported here for the same start-up reason as in _figure.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _error_bars(values: Sequence[float], intervals: Sequence[Sequence[float] | None]) -> np.ndarray:
    """Asymmetric error-bar lengths (2, n); no interval gives zero-length bars.

    A percentile interval need not contain the point estimate, so lengths are
    clipped at zero rather than drawn negative.
    """
    low, high = [], []
    for value, ci in zip(values, intervals):
        if ci is None:
            low.append(0.0)
            high.append(0.0)
        else:
            low.append(max(0.0, value - ci[0]))
            high.append(max(0.0, ci[1] - value))
    return np.array([low, high])


def confusion_heatmap(matrix: Sequence[Sequence[int]], labels: Sequence[str] = ROLES,
                      title: str = "Roles: confusion matrix") -> bytes:
    """Heat map of gold (rows) against predicted (columns) counts, each cell annotated."""
    data = np.asarray(matrix, dtype=float)
    fig = _figure(figsize=(6.4, 5.2))
    ax = fig.add_subplot()
    image = ax.imshow(data, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(len(labels)), labels=list(labels), rotation=35, ha="right")
    ax.set_yticks(range(len(labels)), labels=list(labels))
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    threshold = data.max() / 2 if data.size and data.max() > 0 else 0.5
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            ax.text(j, i, f"{int(data[i, j])}", ha="center", va="center",
                    color="white" if data[i, j] > threshold else "black", fontsize=9)
    return _png(fig)


def role_f1_bars(result: Mapping[str, Any]) -> bytes:
    """Per-role F1 and macro-F1 bars with their bootstrap 95% intervals as error bars."""
    roles = result["roles"]
    ci = result.get("ci", {})
    names = list(ROLES) + ["macro"]
    values = [roles["per_role"][r]["f1"] for r in ROLES] + [roles["macro_f1"]]
    intervals = [ci.get(f"roles.per_role.{r}.f1") for r in ROLES] + [ci.get("roles.macro_f1")]
    shown = [v if v is not None else 0.0 for v in values]
    fig = _figure(figsize=(7.0, 4.0))
    ax = fig.add_subplot()
    colors = ["#4878a8"] * len(ROLES) + ["#d08030"]
    ax.bar(names, shown, color=colors, yerr=_error_bars(shown, intervals), capsize=4)
    for x, v in enumerate(values):
        ax.text(x, 0.02, "n/a" if v is None else f"{v:.2f}", ha="center", va="bottom", color="white"
                if v is not None and v > 0.1 else "black", fontsize=9)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1")
    ax.set_title("F1 per role (error bars: 95% bootstrap CI over documents)")
    ax.tick_params(axis="x", rotation=20)
    return _png(fig)


def reliability_diagram(calibration: Mapping[str, Any]) -> bytes:
    """Accuracy against mean confidence per bin, the diagonal, and bin counts below."""
    bins = calibration["bins"]
    centres = [(b["low"] + b["high"]) / 2 for b in bins]
    width = bins[0]["high"] - bins[0]["low"]
    fig = _figure(figsize=(5.6, 6.0))
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    accuracy = [b["accuracy"] if b["accuracy"] is not None else 0.0 for b in bins]
    top.bar(centres, accuracy, width=width * 0.95, color="#4878a8", edgecolor="black", label="accuracy")
    filled = [b for b in bins if b["count"]]
    top.plot([b["confidence"] for b in filled], [b["accuracy"] for b in filled], "o", color="#d08030",
             label="mean confidence")
    top.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.set_title(f"Reliability diagram (ECE {calibration['ece']:.3f}, n={calibration['n']})")
    top.legend(loc="upper left", fontsize=8)
    bottom.bar(centres, [b["count"] for b in bins], width=width * 0.95, color="grey")
    bottom.set_xlabel("confidence of the predicted role")
    bottom.set_ylabel("passages")
    return _png(fig)


def grouped_role_bars(systems: Mapping[str, Mapping[str, Any]]) -> bytes:
    """Per-role F1 and macro-F1 of several systems side by side, with CI error bars."""
    groups = list(ROLES) + ["macro"]
    names = list(systems)
    fig = _figure(figsize=(max(7.0, 1.4 * len(groups) * max(1, len(names)) / 2), 4.2))
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(names))
    x = np.arange(len(groups))
    for k, name in enumerate(names):
        result = systems[name]
        roles, ci = result["roles"], result.get("ci", {})
        values = [roles["per_role"][r]["f1"] for r in ROLES] + [roles["macro_f1"]]
        shown = [v if v is not None else 0.0 for v in values]
        intervals = [ci.get(f"roles.per_role.{r}.f1") for r in ROLES] + [ci.get("roles.macro_f1")]
        ax.bar(x - 0.4 + width * (k + 0.5), shown, width, label=name,
               yerr=_error_bars(shown, intervals), capsize=3)
    ax.set_xticks(x, labels=groups, rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1")
    ax.set_title("F1 per role and macro-F1 (error bars: 95% bootstrap CI)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)
