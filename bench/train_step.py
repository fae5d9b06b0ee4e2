"""Where a training step's time goes, per batch size: forward, backward, gradient clipping, optimiser.

The default run's training time is the sum of its steps, so this is what
a batch-size or freezing choice changes. On the default run's own windows
(``--data bundled``, first epoch's selection and order) it times a sample of
batches at each batch size and projects an epoch (steps per epoch times the
mean step). Nothing is learnt from the timings: the optimiser steps on the
sample are thrown away with the model.

Run: ``python bench/train_step.py [--batch-sizes 8 16] [--batches 40] [--freeze-layers N]``.
Saves ``bench/results/train_step.json``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import save_results  # noqa: E402

import torch  # noqa: E402

from sourcemark.bundled import bundled_training_documents  # noqa: E402
from sourcemark.training.config import TrainConfig  # noqa: E402
from sourcemark.training.dataset import label_weights, training_windows  # noqa: E402
from sourcemark.training.trainer import BatchLoss, Trainer, epoch_order, plain_corpus_windows  # noqa: E402

#: Batches timed before the measured ones: the first steps allocate and warm caches.
WARM_UP = 5


def time_batch_size(config: TrainConfig, batches: int, seed: int) -> dict[str, float]:
    """Milliseconds per step by phase, and the projected epoch, for ``config.batch_size``."""
    trainer = Trainer(config, Path("unused"), progress=False, log=lambda _: None)
    net, tokenizer = trainer._build()
    docs = bundled_training_documents()[0]
    windows = training_windows(docs, tokenizer, config.max_length, config.context, [1.0] * len(docs),
                               config.isolate_passages, config.context_segment)
    order = epoch_order([len(row["input_ids"]) for row in windows], config, 0,
                        plain_corpus_windows(windows, docs)).tolist()
    size = config.batch_size
    all_batches = [order[b : b + size] for b in range(0, len(order), size)]
    sample = random.Random(seed).sample(all_batches, min(len(all_batches), batches + WARM_UP))
    losses = BatchLoss(net, *label_weights(windows), config.tag_loss_weight, tokenizer.pad_token_id or 0)
    optimizer, _ = trainer._optimizer(net, len(sample))
    net.train()
    spent: Counter = Counter()
    for k, batch in enumerate(sample):
        rows = [windows[i] for i in batch]
        marks = [time.perf_counter()]
        loss = losses(rows)
        marks.append(time.perf_counter())
        loss.backward()
        marks.append(time.perf_counter())
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        marks.append(time.perf_counter())
        optimizer.step()
        optimizer.zero_grad()
        marks.append(time.perf_counter())
        if k >= WARM_UP:
            for phase, (start, end) in zip(("forward", "backward", "clip", "optimiser"), zip(marks, marks[1:])):
                spent[phase] += end - start
    measured = len(sample) - WARM_UP
    per_step = {phase: round(seconds / measured * 1000, 1) for phase, seconds in spent.items()}
    step_ms = sum(per_step.values())
    return {"batch_size": size, "steps_per_epoch": len(all_batches), "ms_per_step": per_step,
            "ms_per_window": round(step_ms / size, 2),
            "projected_epoch_seconds": round(step_ms * len(all_batches) / 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--batches", type=int, default=40, help="Batches timed per batch size.")
    parser.add_argument("--freeze-layers", type=int, default=TrainConfig.freeze_layers)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    base = replace(TrainConfig(), freeze_layers=args.freeze_layers)
    rows = []
    for size in args.batch_sizes:
        row = time_batch_size(replace(base, batch_size=size), args.batches, args.seed)
        rows.append(row)
        phases = "  ".join(f"{phase} {ms:.0f}" for phase, ms in row["ms_per_step"].items())
        print(f"batch {size:3d}: {phases} ms/step  {row['ms_per_window']:.1f} ms/window  "
              f"epoch ~{row['projected_epoch_seconds']:.0f} s ({row['steps_per_epoch']} steps)")
    save_results("train_step", {"threads": torch.get_num_threads(), "freeze_layers": args.freeze_layers,
                                "batches_timed": args.batches, "rows": rows})


if __name__ == "__main__":
    main()
