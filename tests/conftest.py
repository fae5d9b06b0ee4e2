"""Shared fixtures: paths to the bundled data and the shared material beside the project."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sourcemark.training.config import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "training" / "data"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def real_dev_path() -> Path:
    """The real-article gold (a copy of the user's seeds' annotations)."""
    return DATA / "real_dev.jsonl"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The raw sample articles the README's main command scores."""
    return DATA / "samples"


def tiny_config(backbone: Path, **overrides: object) -> TrainConfig:
    """Settings that train the tiny backbone in seconds on one thread."""
    base: dict = dict(base_model=str(backbone), epochs=4, batch_size=4, learning_rate=1e-3,
                      head_learning_rate=3e-3, max_length=128, context=16, seed=7, threads=1)
    base.update(overrides)
    return TrainConfig(**base)


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 64-wide BERT with the bundled MiniLM tokenizer: real weights format, tiny size."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from sourcemark.model.backbone import bundled_minilm_path

    path = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_minilm_path()))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=128, max_position_embeddings=512)
    BertModel(config).save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return path



@pytest.fixture(scope="session")
def trained(tiny_backbone: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """A tiny model really trained on synthetic documents, and its dev documents."""
    from sourcemark.training.trainer import Trainer
    from synthetic import synthetic_documents

    out = tmp_path_factory.mktemp("models") / "tiny"
    train, dev = synthetic_documents(24, seed=1), synthetic_documents(6, seed=2)
    Trainer(tiny_config(tiny_backbone), out, progress=False, log=lambda m: None).train(train, dev)
    return out, dev
