"""What context adds: passages packed with their neighbours against passages encoded alone.

Run: ``python bench/context_ablation.py [--model models/default]``. Trains one
model with the default settings except the context mode, flipped from the one
``--model`` was trained with: packed (several passages per window, with context
tokens either side) against isolated (each passage alone in its window, no
neighbouring text; the structure features, which include the comment-section
flag and the position, stay in both). Scores both on the corpus dev split and
the real-article dev set with gold passage boundaries. About one default
training time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, save_results  # noqa: E402

from sourcemark.model.annotator import Annotator  # noqa: E402
from sourcemark.training.config import TrainConfig  # noqa: E402
from sourcemark.bundled import bundled_dev_sets, split_corpus  # noqa: E402
from sourcemark.eval.dev_scores import dev_scores_by_set  # noqa: E402
from sourcemark.training.trainer import Trainer  # noqa: E402


def mode(isolated: bool) -> str:
    return "isolated_passages" if isolated else "packed_with_context"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    args = parser.parse_args()
    train, dev = split_corpus()
    dev_sets = bundled_dev_sets()
    given = Annotator.load(args.model)
    given_mode = mode(given.settings.isolate_passages)
    other = TrainConfig(isolate_passages=not given.settings.isolate_passages)
    results = {given_mode: dev_scores_by_set(given, dev_sets)}
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        result = Trainer(other, Path(tmp) / "other", progress=False).train(train, dev)
        results[mode(other.isolate_passages)] = dev_scores_by_set(Annotator.load(result.out_dir), dev_sets)
    figures = {**results, "trained_here": mode(other.isolate_passages), "training_seconds": round(time.time() - started, 1),
               "training_steps": result.history[-1]["step"] if result.history else 0}
    packed, isolated = results[mode(False)], results[mode(True)]
    for name in dev_sets:
        a, b = packed[name], isolated[name]
        print(f"{name:10s} role macro-F1 {a['role_macro_f1']:.3f} packed with context vs {b['role_macro_f1']:.3f} "
              f"isolated ({a['role_macro_f1'] - b['role_macro_f1']:+.3f}); mention F1 {a['mention_f1']:.3f} vs "
              f"{b['mention_f1']:.3f}")
    save_results("context_ablation", figures)


if __name__ == "__main__":
    main()
