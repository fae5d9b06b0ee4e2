"""What domain-adaptive masked-LM pre-training adds, at equal fine-tuning steps.

Run: ``python bench/adapt_ablation.py [--steps 1200] [--adapt-epochs 2] [--articles PATH]``.

1. Adapts the bundled backbone (``sourcemark adapt``) on the unlabelled FA-KES
   articles in ``../shared/realtext`` (or ``--articles``), without the
   documents of the dev splits, which ``adapt`` always leaves out.
2. Fine-tunes the bundled backbone and the adapted one with the same data,
   seed and number of optimiser steps, and scores both on the corpus dev split
   and the real dev split (gold passage boundaries).

The adaptation's own wall time is reported beside its effect. Skips cleanly
when the unlabelled articles are absent. Saves ``bench/results/adapt_ablation.json``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, save_results, train_and_score  # noqa: E402

from sourcemark.training.adapt import AdaptConfig, adapt_backbone, adaptation_texts  # noqa: E402
from sourcemark.training.config import TrainConfig  # noqa: E402

UNLABELLED = ROOT.parent / "shared" / "realtext" / "fakes-unlabelled.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1200, help="fine-tuning steps of both variants")
    parser.add_argument("--adapt-epochs", type=int, default=AdaptConfig.epochs, help="masked-LM passes")
    parser.add_argument("--articles", type=Path, default=UNLABELLED, help="unlabelled articles to adapt on")
    args = parser.parse_args()
    if not args.articles.exists():
        print(f"skipped: {args.articles} is absent")
        return
    texts, excluded, _ = adaptation_texts([str(args.articles)])
    figures: dict = {"steps": args.steps, "variants": {}}
    with tempfile.TemporaryDirectory() as tmp:
        adapted = adapt_backbone(texts, AdaptConfig(epochs=args.adapt_epochs), Path(tmp) / "adapted",
                                 {"excluded": excluded}, progress=False)
        figures["adaptation"] = {
            "documents": adapted.documents, "held_out_documents_excluded": excluded,
            "blocks": adapted.train_blocks, "steps": adapted.steps, "seconds": adapted.seconds,
            "held_out_masked_lm_loss": [adapted.held_out_loss_before, adapted.held_out_loss_after]}
        print(f"adapted on {adapted.documents} articles ({excluded} dev documents left out) in "
              f"{adapted.seconds:.0f} s: masked-LM loss {adapted.held_out_loss_before:.3f} -> "
              f"{adapted.held_out_loss_after:.3f}")
        for name, base in (("bundled", TrainConfig.base_model), ("adapted", str(adapted.out_dir))):
            config = replace(TrainConfig(), base_model=base, max_steps=args.steps)
            figures["variants"][name] = train_and_score(config, name)
    save_results("adapt_ablation", figures)


if __name__ == "__main__":
    main()
