"""What ``sourcemark train`` does, as one library call: train, compare, calibrate, document.

Trains on the corpus (plus corrections), keeps the best epoch on the corpus
dev split, scores the model and both baselines on the dev sets with
confidence intervals, optionally measures a learning curve, and writes the
model card and ``metrics.json`` into the model directory.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

from sourcemark.documents import Document
from sourcemark.eval.bootstrap import DEFAULT_REPLICATES
from sourcemark.eval.dev_scores import dev_scores
from sourcemark.eval.metrics import evaluate
from sourcemark.model.annotator import Annotator
from sourcemark.training.baselines import CueWordBaseline, TfidfBaseline
from sourcemark.training.config import TrainConfig
from sourcemark.bundled import BUNDLED, load_documents, seed_documents, split_real_articles
from sourcemark.training.model_card import write_model_card
from sourcemark.training.trainer import TrainResult, Trainer
from sourcemark.validation import read_checked_documents

#: Shares of the training documents the learning curve trains on; 100% is the model itself.
LEARNING_CURVE_FRACTIONS = (0.25, 0.5, 0.75)

#: The learning curve of the default settings on the bundled corpus, measured by
#: ``bench/learning_curve.py``; a model card uses it when its run has the same settings and data.
SHIPPED_CURVE_FILE = Path(__file__).resolve().parent / "data" / "learning_curve.json"


def curve_key(config: TrainConfig) -> str:
    """Fingerprint of the settings that shape a curve (not the data share, threads or step cap)."""
    return replace(config, data_fraction=1.0, threads=0, max_steps=0).fingerprint()


def shipped_learning_curve(config: TrainConfig, data_hash: str,
                           path: Path | None = None) -> dict[str, Any] | None:
    """The measured curve for exactly these settings and training data, if one is shipped."""
    try:
        record = json.loads((path or SHIPPED_CURVE_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if record.get("config_key") == curve_key(config) and record.get("data_hash") == data_hash:
        return record
    return None


def summarise(metrics: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers (with CIs) of an ``evaluate`` result."""
    roles, sources, spans = metrics["roles"], metrics["sources"], metrics["mention_spans"]
    out = {
        "role_macro_f1": roles["macro_f1"],
        "role_accuracy": roles["accuracy"],
        "mention_f1": sources["f1"],
        "span_mention_f1": spans["f1"],
        "type_accuracy": spans["type_accuracy"],
        "boundary_f1": metrics["segmentation"]["f1"],
    }
    ci = metrics.get("ci", {})
    for key, ci_key in (("role_macro_f1", "roles.macro_f1"), ("role_accuracy", "roles.accuracy"),
                        ("mention_f1", "sources.f1"), ("span_mention_f1", "mention_spans.f1")):
        if ci_key in ci:
            out[f"{key}_ci"] = ci[ci_key]
    return out


#: The model's row name when it also cuts the passages itself (what a user gets on raw text).
OWN_SEGMENTATION = "sourcemark, own segmentation"


def evaluate_systems(
    dev_sets: dict[str, list[Document]], annotator: Annotator, train_docs: Sequence[Document],
    bootstrap: int = DEFAULT_REPLICATES, seed: int = 0,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Model and baselines on every dev set with gold passages, and the model on the raw texts too."""
    systems: dict[str, Any] = {
        "sourcemark": annotator,
        "tf-idf + logistic regression": TfidfBaseline().fit(train_docs),
        "cue-word rules": CueWordBaseline(),
    }
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name, docs in dev_sets.items():
        if not docs:
            continue
        results[name] = {}
        for system_name, system in systems.items():
            predict = system.annotate if isinstance(system, Annotator) else system.predict
            preds = list(predict(docs))
            results[name][system_name] = summarise(evaluate(docs, preds, bootstrap=bootstrap, seed=seed))
        preds = list(annotator.annotate(docs, resegment=True))
        results[name][OWN_SEGMENTATION] = summarise(evaluate(docs, preds, bootstrap=bootstrap, seed=seed))
    return results


def learning_curve(config: TrainConfig, train_docs: Sequence[Document], dev_docs: Sequence[Document],
                   full_scores: dict[str, Any] | None = None,
                   log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Dev scores when training on 25/50/75% of the training documents, and 100%.

    ``full_scores`` are the dev scores of the model trained on all the data
    with the same settings (the run that asks for the curve), so the most
    expensive point is not trained twice; without them it is trained here.
    """
    points = []
    fractions = LEARNING_CURVE_FRACTIONS + (() if full_scores is not None else (1.0,))
    for fraction in fractions:
        with tempfile.TemporaryDirectory() as tmp:
            run = Trainer(replace(config, data_fraction=fraction), Path(tmp) / "curve", progress=False, log=log)
            result = run.train(train_docs, dev_docs)
            scores = dev_scores(Annotator.load(result.out_dir), dev_docs)
        documents = max(1, round(len(train_docs) * fraction))
        points.append({"fraction": fraction, "documents": documents, **scores})
        log(f"learning curve {int(fraction * 100)}%: {scores}")
    if full_scores is not None:
        points.append({"fraction": 1.0, "documents": len(train_docs), **full_scores})
    return points


def train_model(
    out_dir: Path,
    config: TrainConfig,
    data: Sequence[str] = (BUNDLED,),
    dev: Sequence[str] = (BUNDLED,),
    corrected: Sequence[str] = (),
    real_dev: bool = True,
    with_learning_curve: bool = False,
    bootstrap: int = DEFAULT_REPLICATES,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Train, evaluate against baselines, write MODEL_CARD.md and metrics.json."""
    train_docs = load_documents(data, "train")
    dev_docs = load_documents(dev, "dev")
    corrected_docs = [d for path in corrected for d in read_checked_documents(path)]
    if not train_docs and not corrected_docs:
        raise ValueError("no training documents (check --data)")
    corrected_ids = {d.doc_id for d in corrected_docs}
    train_docs = [d for d in train_docs if d.doc_id not in corrected_ids]
    result = Trainer(config, out_dir, progress=progress, log=log).train(train_docs, dev_docs, corrected_docs)
    annotator = Annotator.load(out_dir)
    dev_sets = {"corpus dev split": dev_docs}
    if real_dev:
        dev_sets["real dev split (FA-KES dev + seeds)"] = split_real_articles()[1] + seed_documents()
    evaluations = evaluate_systems(dev_sets, annotator, list(train_docs) + corrected_docs, bootstrap)
    curve, curve_source = None, ""
    if with_learning_curve and dev_docs:
        curve = learning_curve(config, train_docs, dev_docs, dev_scores(annotator, dev_docs), log)
        curve_source = "measured in this run"
    elif not corrected_docs and (shipped := shipped_learning_curve(config, result.data_hash)) is not None:
        curve = shipped["points"]
        curve_source = (f"measured by `bench/learning_curve.py` on {shipped.get('measured', '?')} with the same "
                        f"settings and training data (settings key {shipped['config_key']})")
    write_model_card(
        out_dir, model_version=result.model_version, config=config, counts=result.counts,
        data_hash=result.data_hash, seconds=result.seconds, best_epoch=result.best_epoch,
        temperature=result.temperature, history=result.history, evaluations=evaluations,
        learning_curve=curve, learning_curve_source=curve_source, registry_version=annotator.registry.version,
    )
    (Path(out_dir) / "metrics.json").write_text(json.dumps(
        {"model_version": result.model_version, "evaluations": evaluations, "learning_curve": curve,
         "history": result.history, "seconds": round(result.seconds, 1)}, indent=2) + "\n", encoding="utf-8")
    return result

