"""Domain-adaptive pre-training: more masked-language-model training of the backbone on unlabelled articles.

The bundled backbone learnt English from general web text; conflict reporting
has its own vocabulary (outlets, armed groups, place names, wire-copy
phrasing). Continuing the backbone's masked-LM objective on unlabelled
articles of the domain, before fine-tuning, is a cheap way to use text nobody
labelled. The result is an ordinary Hugging Face model directory, passed to
``sourcemark train --base-model DIR``; whether it helps is measured by
``bench/adapt_ablation.py``.

Documents of the bundled dev splits (corpus dev, real dev, seeds) and of any
``exclude`` file are always dropped, by id and by text, so an adapted
backbone never saw the text it is judged on.

The loop is a plain one, as in :mod:`sourcemark.training.trainer`: the
masking is the library's (:class:`transformers.DataCollatorForLanguageModeling`),
the blocks are built with :mod:`datasets`.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import torch
from tqdm.auto import tqdm

from sourcemark.bundled import bundled_dev_sets
from sourcemark.documents import Document
from sourcemark.model.backbone import DEFAULT_BACKBONE, resolve_backbone
from sourcemark.readers import ReadError, read_inputs, text_sha1

#: Name of the record an adapted model directory carries: settings, data counts and losses.
ADAPT_RECORD = "sourcemark_adapt.json"


@dataclass
class AdaptConfig:
    """Settings of a masked-LM adaptation run; saved with the adapted backbone."""

    base_model: str = DEFAULT_BACKBONE
    #: Word pieces per training block: articles are concatenated and cut into blocks, so no padding.
    block_size: int = 128
    epochs: int = 2
    batch_size: int = 16
    #: Low, as for continued pre-training: the backbone should learn the domain, not forget English.
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    mlm_probability: float = 0.15
    #: Steps that train the masked-LM head alone (encoder frozen) first. The bundled MiniLM ships
    #: without its head, so it starts random (loss near uniform over the vocabulary); its gradients
    #: would otherwise hit the encoder as noise until the head makes sense.
    head_steps: int = 150
    head_learning_rate: float = 1e-3
    #: Share of blocks held out to measure the masked-LM loss before and after.
    held_out_share: float = 0.05
    seed: int = 13
    max_steps: int = 0


@dataclass
class AdaptResult:
    """What an adaptation run did, for the command's summary and the saved record."""

    out_dir: Path
    documents: int
    excluded: int
    unreadable: int
    train_blocks: int
    held_out_blocks: int
    steps: int
    held_out_loss_before: float
    held_out_loss_after: float
    seconds: float
    config: dict[str, Any] = field(default_factory=dict)


def held_out_keys(exclude: Sequence[str] = ()) -> tuple[set[str], set[str]]:
    """Ids and text hashes of documents an adapted backbone must not see: the bundled dev sets and ``exclude``.

    ``exclude`` takes what ``score`` reads (gold JSONL, folders of articles); an
    unreadable exclude input is an error, since it would let held-out text in.
    """
    docs: list[Document] = [d for docs in bundled_dev_sets().values() for d in docs]
    for result in read_inputs(exclude):
        if isinstance(result, ReadError):
            raise ValueError(f"cannot read the documents to exclude: {result}")
        docs.append(result)
    return {d.doc_id for d in docs}, {text_sha1(d.text) for d in docs}


def adaptation_texts(inputs: Iterable[str], exclude: Sequence[str] = (),
                     on_error: Callable[[ReadError], None] = lambda _: None) -> tuple[list[str], int, int]:
    """The texts to adapt on (any input ``score`` reads), without held-out documents.

    Returns the texts, how many documents were excluded as held out, and how
    many inputs could not be read (each reported through ``on_error``).
    """
    ids, hashes = held_out_keys(exclude)
    texts: list[str] = []
    excluded = unreadable = 0
    for result in read_inputs(inputs):
        if isinstance(result, ReadError):
            unreadable += 1
            on_error(result)
        elif result.doc_id in ids or text_sha1(result.text) in hashes:
            excluded += 1
        elif result.text.strip():
            texts.append(result.text)
    return texts, excluded, unreadable


def _quietly(load: Callable[[], Any]) -> Any:
    """Load or save without transformers' load report and bars: a backbone without a masked-LM head is
    expected here (the command says so in one line), and the report's table would bury it."""
    from transformers.utils import logging as hf_logging

    previous, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        return load()
    finally:
        hf_logging.set_verbosity(previous)
        if bars:
            hf_logging.enable_progress_bar()


def _blocks(texts: list[str], tokenizer: Any, block_size: int) -> list[list[int]]:
    """Articles tokenised, concatenated with [SEP] between them and cut into full blocks of [CLS] + pieces + [SEP]."""
    from datasets import Dataset
    from datasets.utils.logging import disable_progress_bar, enable_progress_bar, is_progress_bar_enabled

    inner = block_size - 2

    def tokenise(batch: dict[str, list[str]]) -> dict[str, list[list[int]]]:
        encoded = tokenizer(batch["text"], add_special_tokens=False, verbose=False)["input_ids"]
        return {"ids": [ids + [tokenizer.sep_token_id] for ids in encoded]}

    def cut(batch: dict[str, list[list[int]]]) -> dict[str, list[list[int]]]:
        stream = [piece for ids in batch["ids"] for piece in ids]
        whole = len(stream) // inner * inner
        return {"input_ids": [[tokenizer.cls_token_id] + stream[i:i + inner] + [tokenizer.sep_token_id]
                              for i in range(0, whole, inner)]}

    bars_were_on = is_progress_bar_enabled()
    disable_progress_bar()  # two quick maps: their bars would only interleave with the command's own
    try:
        data = Dataset.from_dict({"text": texts})
        data = data.map(tokenise, batched=True, remove_columns=["text"])
        data = data.map(cut, batched=True, batch_size=200, remove_columns=["ids"])
        return list(data["input_ids"])
    finally:
        if bars_were_on:
            enable_progress_bar()


def _masked_lm_loss(model: Any, blocks: list[list[int]], collator: Any, batch_size: int) -> float:
    """Mean masked-LM loss over ``blocks`` with a fixed masking seed, so before and after compare."""
    if not blocks:
        return float("nan")
    state = torch.random.get_rng_state()
    torch.manual_seed(0)
    model.eval()
    total = 0.0
    with torch.inference_mode():
        for i in range(0, len(blocks), batch_size):
            batch = collator([{"input_ids": b} for b in blocks[i:i + batch_size]])
            total += masked_lm_loss(model, batch).item() * len(blocks[i:i + batch_size])
    torch.random.set_rng_state(state)
    return total / len(blocks)


def masked_lm_loss(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The masked-LM loss, with the vocabulary projection computed for the masked positions only.

    ``BertForMaskedLM`` projects every position onto the 30k-word vocabulary,
    which costs as much as the encoder itself; only the masked 15% count in the
    loss. Models without BERT's ``cls`` head take the library's full path.
    """
    head = getattr(model, "cls", None)
    if head is None:
        return model(**batch).loss
    labels = batch["labels"]
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    hidden = model.base_model(**inputs).last_hidden_state
    masked = labels != -100
    return torch.nn.functional.cross_entropy(head(hidden[masked]), labels[masked])


def _batches(blocks: list[list[int]], collator: Any, batch_size: int, seed: int) -> Iterator[dict[str, Any]]:
    """Masked batches for ever, a new shuffle each pass; the collator draws the masks anew every time."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(len(blocks), generator=generator).tolist()
        for i in range(0, len(order), batch_size):
            yield collator([{"input_ids": blocks[k]} for k in order[i:i + batch_size]])


def _decay_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Parameter groups with weight decay except on biases and LayerNorm weights, as BERT was trained."""
    no_decay = ("bias", "LayerNorm.weight")
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [{"params": [p for n, p in named if not n.endswith(no_decay)], "weight_decay": weight_decay},
            {"params": [p for n, p in named if n.endswith(no_decay)], "weight_decay": 0.0}]


def _optimise(model: torch.nn.Module, groups: list[dict[str, Any]], learning_rate: float, steps: int,
              warmup: int, batches: Iterator[dict[str, Any]], bar: Any) -> None:
    """``steps`` AdamW steps on ``groups`` with linear warm-up and decay, batches drawn from ``batches``."""
    from transformers import get_linear_schedule_with_warmup

    if steps <= 0:
        return
    optimiser = torch.optim.AdamW(groups, lr=learning_rate)
    schedule = get_linear_schedule_with_warmup(optimiser, warmup, steps)
    model.train()
    for _ in range(steps):
        loss = masked_lm_loss(model, next(batches))
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for g in groups for p in g["params"]], 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad(set_to_none=True)
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3f}")


def adapt_backbone(texts: list[str], config: AdaptConfig, out_dir: str | os.PathLike[str],
                   counts: dict[str, int] | None = None, progress: bool = True,
                   log: Callable[[str], None] = print) -> AdaptResult:
    """Continue the backbone's masked-LM training on ``texts`` and save it (encoder + tokenizer) in ``out_dir``.

    The saved directory holds the encoder only (the masked-LM head is dropped;
    fine-tuning does not use it), with the base model's pooler, so loading it
    with ``AutoModel`` reports nothing missing.
    """
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling

    if not texts:
        raise ValueError("no text to adapt on (every input was held out, empty or unreadable)")
    if Path(out_dir).exists() and any(Path(out_dir).iterdir()):
        raise ValueError(f"{out_dir}: exists and is not empty; choose another --out or remove it")
    started = time.time()
    torch.manual_seed(config.seed)
    backbone = resolve_backbone(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(backbone)
    model, loading = _quietly(lambda: AutoModelForMaskedLM.from_pretrained(backbone, output_loading_info=True))
    new_head = list(loading.get("missing_keys", ()))
    blocks = _blocks(texts, tokenizer, config.block_size)
    if len(blocks) < 2:
        raise ValueError(f"too little text to adapt on: {len(blocks)} block(s) of {config.block_size} word pieces")
    random.Random(config.seed).shuffle(blocks)
    n_held = max(1, int(len(blocks) * config.held_out_share))
    held, train = blocks[:n_held], blocks[n_held:]
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=config.mlm_probability,
                                               return_tensors="pt")
    before = _masked_lm_loss(model, held, collator, config.batch_size)
    log(f"adapting on {len(train)} blocks of {config.block_size} word pieces "
        f"({len(held)} held out, masked-LM loss {before:.3f})")

    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    total = steps_per_epoch * config.epochs
    if config.max_steps:
        total = min(total, config.max_steps)
    head_steps = min(config.head_steps, total // 2)
    if new_head:
        log(f"the backbone has no masked-LM head ({len(new_head)} weights start untrained): "
            f"it is trained alone for the first {head_steps} steps")
    batches = _batches(train, collator, config.batch_size, config.seed)
    prefix = model.base_model_prefix
    head = [p for n, p in model.named_parameters() if not n.startswith(prefix)]  # the tied decoder is the encoder's
    with tqdm(total=total, disable=not progress, unit="batch", desc="masked LM") as bar:
        for p in model.base_model.parameters():
            p.requires_grad_(False)
        _optimise(model, [{"params": head, "weight_decay": 0.0}], config.head_learning_rate, head_steps,
                  0, batches, bar)
        for p in model.base_model.parameters():
            p.requires_grad_(True)
        _optimise(model, _decay_groups(model, config.weight_decay), config.learning_rate, total - head_steps,
                  int((total - head_steps) * config.warmup_ratio), batches, bar)
    after = _masked_lm_loss(model, held, collator, config.batch_size)
    log(f"masked-LM loss on held-out blocks: {before:.3f} -> {after:.3f}")

    encoder = _quietly(lambda: AutoModel.from_pretrained(backbone))
    missing = encoder.load_state_dict(model.base_model.state_dict(), strict=False)
    if any(not k.startswith("pooler.") for k in missing.missing_keys) or missing.unexpected_keys:
        raise RuntimeError(f"adapted weights do not fit the encoder: {missing}")
    out = Path(out_dir)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    _quietly(lambda: (encoder.save_pretrained(partial), tokenizer.save_pretrained(partial)))
    result = AdaptResult(out_dir=out, documents=len(texts), excluded=(counts or {}).get("excluded", 0),
                         unreadable=(counts or {}).get("unreadable", 0), train_blocks=len(train),
                         held_out_blocks=len(held), steps=total, held_out_loss_before=round(before, 4),
                         held_out_loss_after=round(after, 4), seconds=round(time.time() - started, 1),
                         config=asdict(config))
    record = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(result).items()}
    (partial / ADAPT_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    partial.replace(out)  # all or nothing: a directory without weights is never left at --out
    return result
