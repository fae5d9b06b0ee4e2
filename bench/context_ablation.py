"""What neighbouring text adds, at equal optimiser steps: passages alone, with a context segment, or packed.

Run: ``python bench/context_ablation.py [--steps 1500] [--variants isolated segment packed]``.

Trains one model per variant from the same backbone, data (``--data
bundled``: the corpus and the FA-KES training articles), seed and number of
optimiser steps, and scores each on the corpus dev split and the real dev
split with gold passage boundaries (roles and mentions alone):

* ``isolated``: each passage alone in its window (the default);
* ``segment``: each passage alone, followed by its neighbours (32 word
  pieces either side) as a second segment, token type 1: one window per
  passage, so the same windows per step as ``isolated``, only longer;
* ``packed``: several passages per window with context either side (fewer,
  longer windows; at equal steps it sees more passages).

Equal steps rather than equal epochs: the question is whether the same
training budget spent with context reads passages better. The wall time of
each variant is reported too, since context windows cost more per step.
Saves ``bench/results/context_ablation.json``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import save_results  # noqa: E402

from sourcemark.bundled import bundled_dev_sets, bundled_training_documents  # noqa: E402
from sourcemark.eval.dev_scores import dev_scores_by_set  # noqa: E402
from sourcemark.model.annotator import Annotator  # noqa: E402
from sourcemark.training.config import TrainConfig  # noqa: E402
from sourcemark.training.trainer import Trainer  # noqa: E402

VARIANTS = {
    "isolated": {"isolate_passages": True, "context_segment": False},
    "segment": {"isolate_passages": True, "context_segment": True},
    "packed": {"isolate_passages": False, "context_segment": False},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1500, help="optimiser steps of every variant")
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=["isolated", "segment"])
    args = parser.parse_args()
    train, dev = bundled_training_documents()
    dev_sets = bundled_dev_sets()
    figures: dict = {"steps": args.steps, "variants": {}}
    for name in args.variants:
        config = replace(TrainConfig(), max_steps=args.steps, **VARIANTS[name])
        started = time.time()
        with tempfile.TemporaryDirectory() as tmp:
            result = Trainer(config, Path(tmp) / name, progress=False, log=lambda _: None).train(train, dev)
            scores = dev_scores_by_set(Annotator.load(result.out_dir), dev_sets)
        figures["variants"][name] = {**scores, "training_seconds": round(time.time() - started, 1),
                                     "training_windows": result.counts["train_windows"]}
        print(f"{name:9s} " + "  ".join(
            f"{s}: role macro-F1 {v['role_macro_f1']:.3f} acc {v['role_accuracy']:.3f} mention F1 {v['mention_f1']:.3f}"
            for s, v in scores.items()) + f"  ({figures['variants'][name]['training_seconds']:.0f} s)")
    save_results("context_ablation", figures)


if __name__ == "__main__":
    main()
