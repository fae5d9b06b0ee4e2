"""Learning curve: corpus-dev scores when training on 25/50/75/100% of the training documents.

The training documents are the default run's (``--data bundled``): the
authored corpus's training split and the FA-KES training articles.

Run: ``python bench/learning_curve.py [--model models/default] [--epochs N]``.
Trains on 25, 50 and 75% of the training documents (about 1.5 times the
default training time in all). The 100% point is the ``--model`` directory's
own dev score when it was trained with the same settings on the same data,
else it is trained too. Saves ``bench/results/learning_curve.json`` and, for
the default settings, ``training/data/learning_curve.json``, which the model
card of every run with those settings and data quotes (``sourcemark train``
without ``--learning-curve`` then needs no extra trainings).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import save_results  # noqa: E402

from sourcemark.model.annotator import Annotator, ModelLoadError  # noqa: E402
from sourcemark.training.config import TrainConfig  # noqa: E402
from sourcemark.bundled import bundled_training_documents  # noqa: E402
from sourcemark.eval.dev_scores import dev_scores  # noqa: E402
from sourcemark.training.pipeline import SHIPPED_CURVE_FILE, curve_key, learning_curve  # noqa: E402
from sourcemark.training.trainer import data_hash  # noqa: E402


def full_model_scores(model: Path, config: TrainConfig, train_hash: str, dev) -> dict | None:
    """Dev scores of an existing model trained with the same settings on the same data, else None."""
    try:
        annotator = Annotator.load(model)
    except ModelLoadError:
        return None
    training = annotator.settings.training
    saved = TrainConfig(**training.get("config", {})) if training.get("config") else None
    if saved is None or curve_key(saved) != curve_key(config) or training.get("data_hash") != train_hash:
        print(f"{model}: other settings or data; the 100% point is trained here")
        return None
    return dev_scores(annotator, dev)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=Path("models/default"),
                        help="a model trained on all the data with these settings (its score is the 100%% point)")
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    args = parser.parse_args()
    config = TrainConfig(epochs=args.epochs)
    train, dev = bundled_training_documents()
    train_hash = data_hash(train)
    started = time.time()
    points = learning_curve(config, train, dev, full_model_scores(args.model, config, train_hash, dev))
    for p in points:
        print(f"{int(p['fraction'] * 100):3d}% ({p['documents']} docs): role macro-F1 {p['role_macro_f1']:.3f}, "
              f"mention F1 {p['mention_f1']:.3f}")
    record = {"config_key": curve_key(config), "data_hash": train_hash,
              "measured": time.strftime("%Y-%m-%d"), "epochs": args.epochs, "points": points,
              "seconds": round(time.time() - started, 1)}
    save_results("learning_curve", record)
    if curve_key(config) == curve_key(TrainConfig()):
        SHIPPED_CURVE_FILE.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(f"saved {SHIPPED_CURVE_FILE} (quoted by model cards with the default settings)")


if __name__ == "__main__":
    main()
