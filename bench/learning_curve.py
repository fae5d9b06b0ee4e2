"""Learning curve: corpus-dev scores when training on 25/50/75/100% of the training documents.

Run: ``python bench/learning_curve.py [--epochs N]``. Trains four models (about
four times the default training time) and saves the points; ``sourcemark
train --learning-curve`` puts the same measurement into a model card.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import save_results  # noqa: E402

from sourcemark.training.config import TrainConfig  # noqa: E402
from sourcemark.training.corpus import split_corpus  # noqa: E402
from sourcemark.training.pipeline import learning_curve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    args = parser.parse_args()
    train, dev = split_corpus()
    points = learning_curve(TrainConfig(epochs=args.epochs), train, dev)
    for p in points:
        print(f"{int(p['fraction'] * 100):3d}% ({p['documents']} docs): role macro-F1 {p['role_macro_f1']:.3f}, "
              f"mention F1 {p['mention_f1']:.3f}")
    save_results("learning_curve", {"epochs": args.epochs, "points": points})


if __name__ == "__main__":
    main()
