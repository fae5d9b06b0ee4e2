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
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import save_results, train_and_score  # noqa: E402

from sourcemark.training.config import TrainConfig  # noqa: E402

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
    figures: dict = {"steps": args.steps, "variants": {}}
    for name in args.variants:
        config = replace(TrainConfig(), max_steps=args.steps, **VARIANTS[name])
        figures["variants"][name] = train_and_score(config, name)
    save_results("context_ablation", figures)


if __name__ == "__main__":
    main()
