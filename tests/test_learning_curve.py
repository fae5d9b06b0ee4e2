"""The learning curve in the model card: measured in the run, or quoted from a shipped measurement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sourcemark.jsonl import read_documents, write_documents
from sourcemark.training import pipeline
from sourcemark.training.pipeline import curve_key, shipped_learning_curve, train_model
from sourcemark.training.trainer import data_hash
from conftest import tiny_config
from synthetic import synthetic_documents

pytestmark = pytest.mark.slow


@pytest.fixture()
def data(tmp_path: Path) -> tuple[Path, Path]:
    train, dev = tmp_path / "train.jsonl", tmp_path / "dev.jsonl"
    write_documents(train, synthetic_documents(16, seed=3))
    write_documents(dev, synthetic_documents(4, seed=4))
    return train, dev


def test_learning_curve_is_measured_and_in_the_card(tiny_backbone: Path, data, tmp_path: Path) -> None:
    train, dev = data
    out = tmp_path / "model"
    train_model(out, tiny_config(tiny_backbone, epochs=2), data=[str(train)], dev=[str(dev)], real_dev=False,
                with_learning_curve=True, bootstrap=0, progress=False, log=lambda m: None)
    curve = json.loads((out / "metrics.json").read_text())["learning_curve"]
    assert [p["fraction"] for p in curve] == [0.25, 0.5, 0.75, 1.0]
    assert [p["documents"] for p in curve] == [4, 8, 12, 16]
    assert all(0.0 <= p["role_macro_f1"] <= 1.0 for p in curve)
    card = (out / "MODEL_CARD.md").read_text()
    assert "measured in this run" in card and "| 75% | 12 |" in card


def test_a_shipped_curve_is_quoted_only_for_the_same_settings_and_data(tiny_backbone: Path, data,
                                                                        tmp_path: Path, monkeypatch) -> None:
    train, dev = data
    config = tiny_config(tiny_backbone, epochs=1)
    shipped = tmp_path / "curve.json"
    points = [{"fraction": f, "documents": n, "role_macro_f1": 0.5, "mention_f1": 0.25, "role_accuracy": 0.5}
              for f, n in ((0.25, 4), (0.5, 8), (0.75, 12), (1.0, 16))]
    train_hash = data_hash(list(read_documents(train)))
    shipped.write_text(json.dumps({"config_key": curve_key(config), "data_hash": train_hash,
                                   "measured": "2026-11-23", "points": points}))
    assert shipped_learning_curve(config, train_hash, shipped) is not None
    assert shipped_learning_curve(config, "other-data", shipped) is None
    assert shipped_learning_curve(tiny_config(tiny_backbone, epochs=2), train_hash, shipped) is None
    monkeypatch.setattr(pipeline, "SHIPPED_CURVE_FILE", shipped)
    out = tmp_path / "model"
    train_model(out, config, data=[str(train)], dev=[str(dev)], real_dev=False, bootstrap=0, progress=False,
                log=lambda m: None)
    card = (out / "MODEL_CARD.md").read_text()
    assert "measured by `bench/learning_curve.py` on 2026-11-23" in card and "| 50% | 8 | 0.500 |" in card
