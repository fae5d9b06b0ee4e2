"""The training loop: joint role + source-tag training, dev evaluation each epoch, resumable.

A hand-written loop rather than ``transformers.Trainer`` because a batch
carries passage spans and structure features besides token ids, the metric
that picks the best checkpoint is computed on whole documents, and a
checkpoint must hold everything needed to resume (optimizer, schedule, RNG).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from sourcemark.bundled import is_bundled_real_article
from sourcemark.documents import Document
from sourcemark.eval.dev_scores import dev_scores
from sourcemark.labels import ROLES
from sourcemark.model.annotator import Annotator, ModelSettings
from sourcemark.model.backbone import resolve_backbone
from sourcemark.model.calibration import fit_temperature
from sourcemark.model.network import SourcemarkNet, collate
from sourcemark.training.config import TrainConfig
from sourcemark.training.dataset import has_mention, label_weights, training_windows

CHECKPOINT_DIR = "checkpoint"


@dataclass
class TrainResult:
    """What a run produced: where, which version, how long, and the dev history."""

    out_dir: Path
    model_version: str
    seconds: float
    best_epoch: int
    best_dev: dict[str, float]
    history: list[dict[str, Any]] = field(default_factory=list)
    temperature: float = 1.0
    data_hash: str = ""
    counts: dict[str, Any] = field(default_factory=dict)


def data_hash(docs: Sequence[Document]) -> str:
    """A hash of the training documents, their labels and mentions, for the model card."""
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(json.dumps(doc.to_dict(), sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def _subsample(docs: list[Document], fraction: float, seed: int) -> list[Document]:
    if fraction >= 1.0:
        return docs
    rng = random.Random(seed)
    keep = max(1, round(len(docs) * fraction))
    return sorted(rng.sample(docs, keep), key=lambda d: d.doc_id)


class Trainer:
    """Trains a SourcemarkNet on annotated documents and saves an Annotator directory."""

    def __init__(self, config: TrainConfig, out_dir: str | os.PathLike[str], progress: bool = True,
                 log: Callable[[str], None] = print) -> None:
        self.config = config
        self.out_dir = Path(out_dir)
        self.progress = progress
        self.log = log

    # --------------------------------------------------------------- set-up
    def _build(self) -> tuple[SourcemarkNet, Any]:
        # transformers is slow to import and every `sourcemark` command imports this module: loaded to train
        from transformers import AutoModel, AutoTokenizer

        backbone = resolve_backbone(self.config.base_model)
        tokenizer = AutoTokenizer.from_pretrained(backbone)
        encoder = AutoModel.from_pretrained(backbone)
        if self.config.freeze_word_embeddings:
            encoder.get_input_embeddings().weight.requires_grad_(False)
        if self.config.freeze_layers:
            freeze_lower_layers(encoder, self.config.freeze_layers)
        return SourcemarkNet(encoder), tokenizer

    def _optimizer(self, net: SourcemarkNet, total_steps: int) -> tuple[torch.optim.Optimizer, Any]:
        # transformers is slow to import and every `sourcemark` command imports this module: loaded to train
        from transformers import get_linear_schedule_with_warmup

        cfg = self.config
        decay = lambda n: not (n.endswith("bias") or "LayerNorm" in n or "layer_norm" in n)  # noqa: E731
        groups = []
        for is_encoder, lr in ((True, cfg.learning_rate), (False, cfg.head_learning_rate)):
            params = [(n, p) for n, p in net.named_parameters()
                      if p.requires_grad and n.startswith("encoder.") == is_encoder]
            groups.append({"params": [p for n, p in params if decay(n)], "lr": lr, "weight_decay": cfg.weight_decay})
            groups.append({"params": [p for n, p in params if not decay(n)], "lr": lr, "weight_decay": 0.0})
        # The fused kernel does the AdamW update of all tensors in one pass: the same algorithm, a
        # faster optimiser step on CPU.
        optimizer = torch.optim.AdamW(groups, fused=True)
        warmup = int(total_steps * cfg.warmup_ratio)
        return optimizer, get_linear_schedule_with_warmup(optimizer, warmup, max(total_steps, 1))

    # --------------------------------------------------------------- checkpoints
    def _checkpoint_path(self) -> Path:
        return self.out_dir / CHECKPOINT_DIR / "state.pt"

    def _save_checkpoint(self, state: dict[str, Any]) -> None:
        path = self._checkpoint_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)

    def _load_checkpoint(self) -> dict[str, Any] | None:
        path = self._checkpoint_path()
        if not path.is_file():
            return None
        state = torch.load(path, weights_only=False)
        if state.get("fingerprint") != self.config.fingerprint():
            self.log(f"ignoring {path}: it was made with other settings")
            return None
        return state

    # --------------------------------------------------------------- the run
    def train(self, train_docs: Sequence[Document], dev_docs: Sequence[Document],
              corrected_docs: Sequence[Document] = ()) -> TrainResult:
        """Train, evaluate on dev each epoch, keep the best epoch, calibrate, save."""
        cfg = self.config
        started = time.time()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        # transformers is slow to import and every `sourcemark` command imports this module: loaded to train
        from transformers import set_seed

        set_seed(cfg.seed)  # Python, NumPy and torch generators: same seed, same run
        base = _subsample(list(train_docs), cfg.data_fraction, cfg.seed)
        docs = base + list(corrected_docs)
        train_hash = data_hash(docs)  # before encoding, which marks comment sections on the passages
        weights = [cfg.real_weight if is_bundled_real_article(d) else 1.0 for d in base] + \
            [cfg.corrected_weight] * len(corrected_docs)
        net, tokenizer = self._build()
        # A plain list of window dicts, not a datasets.Dataset: the windows fit in memory, collate pads the
        # ragged rows itself, and selecting a batch from Arrow and decoding it back to Python each step
        # only added time (same rows, so the same results).
        windows = training_windows(docs, tokenizer, cfg.max_length, cfg.context, weights, cfg.isolate_passages,
                                   cfg.context_segment)
        role_w, tag_w = label_weights(windows)
        lengths = [len(row["input_ids"]) for row in windows]
        rotating = plain_corpus_windows(windows, base, len(corrected_docs))
        steps_per_epoch = (len(epoch_windows(rotating, cfg.plain_corpus_share, cfg.seed, 0)) + cfg.batch_size - 1) \
            // cfg.batch_size
        total = steps_per_epoch * cfg.epochs
        if cfg.max_steps:
            total = min(total, cfg.max_steps)
        optimizer, scheduler = self._optimizer(net, total)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        version = f"{self.out_dir.name}-{stamp}-{train_hash[:6]}"
        history: list[dict[str, Any]] = []
        best: dict[str, Any] = {"epoch": -1, "selection": -1.0}
        start_epoch, step = 0, 0
        state = self._load_checkpoint()
        if state is not None:
            net.load_state_dict(state["net"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            torch.set_rng_state(state["torch_rng"])
            random.setstate(state["py_rng"])
            np.random.set_state(state["np_rng"])
            start_epoch, step, history, best, version = (
                state["epoch"] + 1, state["step"], state["history"], state["best"], state["version"])
            self.log(f"resuming from epoch {start_epoch + 1} ({self._checkpoint_path()})")
        annotator = Annotator(net, tokenizer, ModelSettings.from_config(cfg, version))
        losses = BatchLoss(net, role_w, tag_w, cfg.tag_loss_weight, tokenizer.pad_token_id or 0)
        for epoch in range(start_epoch, cfg.epochs):
            if cfg.max_steps and step >= cfg.max_steps:
                break
            net.train()
            epoch_started = time.time()
            order = epoch_order(lengths, cfg, epoch, rotating)
            bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}",
                       disable=not self.progress, unit="batch")
            running = 0.0
            for b in bar:
                if cfg.max_steps and step >= cfg.max_steps:
                    break
                rows = [windows[k] for k in order[b * cfg.batch_size : (b + 1) * cfg.batch_size].tolist()]
                loss = losses(rows)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                step += 1
                running = 0.9 * running + 0.1 * loss.item() if b else loss.item()
                bar.set_postfix(loss=f"{running:.3f}")
            bar.close()
            net.eval()
            scores = dev_scores(annotator, dev_docs) if dev_docs else {}
            record = {"epoch": epoch + 1, "step": step, "loss": round(running, 4),
                      "seconds": round(time.time() - epoch_started, 1), **scores}
            history.append(record)
            self.log("  ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))
            metric = selection_score(scores, epoch)
            if metric > best.get("selection", -1.0):
                best = {"epoch": epoch + 1, "selection": metric, **scores}
                annotator.save(self.out_dir)
            self._save_checkpoint({
                "fingerprint": cfg.fingerprint(), "epoch": epoch, "step": step, "history": history,
                "best": best, "version": version, "net": net.state_dict(),
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "torch_rng": torch.get_rng_state(), "py_rng": random.getstate(),
                "np_rng": np.random.get_state(),
            })
        if best["epoch"] < 0:  # no epoch ran (max_steps 0 epochs): save what we have
            annotator.save(self.out_dir)
        final = Annotator.load(self.out_dir)
        temperature = calibrate(final, dev_docs) if dev_docs else 1.0
        final.settings.temperature = temperature
        final.settings.training.update({"history": history, "best_epoch": best["epoch"],
                                        "data_hash": train_hash})
        final.save(self.out_dir)
        shutil.rmtree(self.out_dir / CHECKPOINT_DIR, ignore_errors=True)
        counts = {"train_documents": len(base), "corrected_documents": len(corrected_docs),
                  "dev_documents": len(dev_docs), "train_passages": sum(len(d.passages) for d in docs),
                  "train_windows": len(windows)}
        return TrainResult(self.out_dir, version, time.time() - started, best["epoch"],
                           {k: v for k, v in best.items() if k not in ("epoch", "selection")}, history, temperature,
                           train_hash, counts)


class BatchLoss:
    """A batch of training windows to its loss: role loss per passage plus weighted tag loss per token.

    Both are weighted by each window's document weight (corrected documents
    count more) and the classes' weights, and averaged over labelled
    positions. A class so that the training loop and ``bench/train_step.py``
    compute the very same step.
    """

    def __init__(self, net: SourcemarkNet, role_weights: Sequence[float], tag_weights: Sequence[float],
                 tag_loss_weight: float, pad_id: int) -> None:
        self.net = net
        self.role_loss = nn.CrossEntropyLoss(weight=torch.tensor(role_weights), reduction="none", ignore_index=-100)
        self.tag_loss = nn.CrossEntropyLoss(weight=torch.tensor(tag_weights), reduction="none", ignore_index=-100)
        self.tag_loss_weight = tag_loss_weight
        self.pad_id = pad_id

    def __call__(self, rows: list[dict[str, Any]]) -> torch.Tensor:
        batch = collate(rows, self.pad_id)
        out = self.net(batch["input_ids"], batch["attention_mask"], batch["passage_batch"],
                       batch["passage_spans"], batch["features"], batch["token_type_ids"])
        window_w = torch.tensor([row["weight"] for row in rows], dtype=torch.float32)
        r_loss = self.role_loss(out["role_logits"], batch["roles"]) * window_w[batch["passage_batch"]]
        r_mask = (batch["roles"] != -100).float()
        t_raw = self.tag_loss(out["tag_logits"].transpose(1, 2), batch["tags"]) * window_w[:, None]
        t_mask = (batch["tags"] != -100).float()
        return r_loss.sum() / r_mask.sum().clamp(min=1) + \
            self.tag_loss_weight * t_raw.sum() / t_mask.sum().clamp(min=1)


def freeze_lower_layers(encoder: nn.Module, count: int) -> None:
    """Keep the embeddings and the ``count`` lowest transformer layers as pre-trained.

    Works for encoders laid out like BERT, RoBERTa and MPNet (``embeddings``
    plus ``encoder.layer``); anything else is refused rather than trained
    whole while the settings say otherwise.
    """
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    embeddings = getattr(encoder, "embeddings", None)
    if layers is None or embeddings is None:
        raise ValueError(f"freeze_layers: {type(encoder).__name__} has no embeddings + encoder.layer to freeze")
    if not 0 <= count <= len(layers):
        raise ValueError(f"freeze_layers: {count} is not between 0 and the encoder's {len(layers)} layers")
    for module in [embeddings, *layers[:count]]:
        for parameter in module.parameters():
            parameter.requires_grad_(False)


def plain_corpus_windows(windows: Sequence[dict[str, Any]], base: Sequence[Document],
                         corrected_count: int = 0) -> list[bool]:
    """Which windows rotate between epochs: the corpus's windows that mark no source mention.

    The corpus is every training document that is neither a bundled real
    article nor a correction; windows index ``base`` followed by
    ``corrected_count`` corrected documents (``doc_index``), as
    :meth:`Trainer.train` builds them.
    """
    corpus_docs = [not is_bundled_real_article(d) for d in base] + [False] * corrected_count
    return [corpus_docs[row["doc_index"]] and not has_mention(row) for row in windows]


def epoch_windows(rotating: Sequence[bool], share: float, seed: int, epoch: int) -> list[int]:
    """The windows one epoch trains on: every fixed window and this epoch's part of the rotating ones.

    The rotating windows (plain corpus windows) are shuffled once per run and
    taken in consecutive slices of ``share`` of them, wrapping around, so
    epoch after epoch covers all of them before any repeats.
    """
    fixed = [i for i, r in enumerate(rotating) if not r]
    pool = [i for i, r in enumerate(rotating) if r]
    if share >= 1.0 or not pool:
        return list(range(len(rotating)))
    random.Random(seed).shuffle(pool)
    size = max(1, round(len(pool) * share))
    start = (epoch * size) % len(pool)
    part = (pool + pool)[start : start + size]
    return sorted(fixed + part)


def epoch_order(lengths: Sequence[int], cfg: TrainConfig, epoch: int,
                rotating: Sequence[bool] | None = None) -> torch.Tensor:
    """The windows of this epoch, in batch order: a shuffle, grouped by length when configured.

    Isolated passages are short and vary a lot in length, so random batches
    carry much padding. Grouping (transformers' own helper: shuffle, then sort
    inside mega-batches) keeps batches random across the epoch while the
    windows inside one batch have similar lengths. With ``rotating`` (the
    authored corpus's windows without a mention), only
    ``cfg.plain_corpus_share`` of those take part (:func:`epoch_windows`).
    """
    chosen = epoch_windows(rotating if rotating is not None else [False] * len(lengths),
                           cfg.plain_corpus_share, cfg.seed, epoch)
    generator = torch.Generator().manual_seed(cfg.seed + epoch)
    if not cfg.group_by_length:
        return torch.tensor(chosen)[torch.randperm(len(chosen), generator=generator)]
    # transformers is slow to import and every `sourcemark` command imports this module: loaded to train
    from transformers.trainer_pt_utils import get_length_grouped_indices

    grouped = get_length_grouped_indices([lengths[i] for i in chosen], cfg.batch_size, generator=generator)
    return torch.tensor(chosen)[torch.tensor(grouped)]


def selection_score(scores: dict[str, float], epoch: int) -> float:
    """What picks the best epoch: the mean of dev role macro-F1 and source-mention F1.

    Both heads share the encoder and peak at different epochs (the tagger
    learns more slowly); choosing by roles alone kept epochs whose tagger was
    far from its best. Without dev documents the last epoch wins.
    """
    if "role_macro_f1" not in scores:
        return float(epoch)
    return (scores["role_macro_f1"] + scores.get("mention_f1", 0.0)) / 2


def calibrate(annotator: Annotator, dev_docs: Sequence[Document]) -> float:
    """Fit the temperature on the dev documents' role logits (gold passages)."""
    results = annotator.logits(list(dev_docs))
    logits, labels = [], []
    for doc, result in zip(dev_docs, results):
        for k, passage in enumerate(doc.passages):
            if passage.label in ROLES:
                logits.append(result["role_logits"][k])
                labels.append(ROLES.index(passage.label))
    if not logits:
        return 1.0
    return round(fit_temperature(torch.stack(logits), torch.tensor(labels)), 4)
