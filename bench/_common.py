"""Helpers every benchmark script shares: where results go and how they are saved."""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]


def save_results(name: str, figures: dict[str, Any]) -> Path:
    """Write ``results/NAME.json`` with the figures, the machine and the time."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": name,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                    "cpus": __import__("os").cpu_count()},
        "figures": figures,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"saved {path}")
    return path


def train_and_score(config: Any, name: str) -> dict[str, Any]:
    """Train one model on the bundled data with ``config``, score it on both dev sets; figures and wall time.

    The ablation benches compare variants trained this same way (same data,
    seed and step budget), each in a temporary directory.
    """
    import tempfile

    from sourcemark.bundled import bundled_dev_sets, bundled_training_documents
    from sourcemark.eval.dev_scores import dev_scores_by_set
    from sourcemark.model.annotator import Annotator
    from sourcemark.training.trainer import Trainer

    train, dev = bundled_training_documents()
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        result = Trainer(config, Path(tmp) / name, progress=False, log=lambda _: None).train(train, dev)
        scores = dev_scores_by_set(Annotator.load(result.out_dir), bundled_dev_sets())
    figures = {**scores, "training_seconds": round(time.time() - started, 1),
               "training_windows": result.counts["train_windows"]}
    print(f"{name:9s} " + "  ".join(
        f"{s}: role macro-F1 {v['role_macro_f1']:.3f} acc {v['role_accuracy']:.3f} mention F1 {v['mention_f1']:.3f}"
        for s, v in scores.items()) + f"  ({figures['training_seconds']:.0f} s)")
    return figures
