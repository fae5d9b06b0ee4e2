"""Domain-adaptive pre-training: held-out text stays out, the masked-LM loss is BERT's, the result is a backbone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from sourcemark.bundled import split_real_articles
from sourcemark.cli import app
from sourcemark.training.adapt import ADAPT_RECORD, AdaptConfig, adapt_backbone, adaptation_texts, masked_lm_loss


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_dev_documents_are_left_out_by_id_and_by_text(tmp_path: Path) -> None:
    train, dev = split_real_articles()
    records = [
        {"doc_id": dev[0].doc_id, "text": dev[0].text},          # a dev article as it is
        {"doc_id": "renamed", "text": dev[1].text},               # a dev article under another id
        {"doc_id": train[0].doc_id, "text": train[0].text},      # training text may be used
        {"doc_id": "new", "text": "Shelling was reported near Idlib on Tuesday."},
    ]
    mine = _write_jsonl(tmp_path / "mine.jsonl", [{"doc_id": "gold-1", "text": "A held-out gold article."}])
    texts, excluded, unreadable = adaptation_texts(
        [str(_write_jsonl(tmp_path / "in.jsonl", records + [{"doc_id": "x", "text": "A held-out gold article."}]))],
        exclude=[str(mine)])
    assert excluded == 3 and unreadable == 0
    assert texts == [train[0].text, "Shelling was reported near Idlib on Tuesday."]


def test_masked_positions_only_loss_equals_the_library_loss(tiny_backbone: Path) -> None:
    from transformers import AutoModelForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling

    model = AutoModelForMaskedLM.from_pretrained(str(tiny_backbone)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_backbone))
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.3, return_tensors="pt")
    torch.manual_seed(1)
    ids = tokenizer(["Rebels said the town fell on Monday, state media denied it."] * 4)["input_ids"]
    batch = collator([{"input_ids": i} for i in ids])
    with torch.no_grad():
        assert torch.allclose(masked_lm_loss(model, batch), model(**batch).loss, atol=1e-5)


def test_adaptation_lowers_the_held_out_loss_and_saves_a_loadable_backbone(tiny_backbone: Path,
                                                                           tmp_path: Path) -> None:
    from transformers import AutoModel

    texts = [d.text for d in split_real_articles()[0][:12]]
    config = AdaptConfig(base_model=str(tiny_backbone), block_size=64, epochs=3, batch_size=8,
                         learning_rate=1e-3, head_steps=10, held_out_share=0.1)
    out = tmp_path / "adapted"
    result = adapt_backbone(texts, config, out, progress=False, log=lambda _: None)
    assert result.steps > 10
    assert result.held_out_loss_after < result.held_out_loss_before - 0.5
    assert not (tmp_path / "adapted.partial").exists()
    record = json.loads((out / ADAPT_RECORD).read_text())
    assert record["documents"] == 12 and record["config"]["block_size"] == 64
    before = AutoModel.from_pretrained(str(tiny_backbone))
    adapted, info = AutoModel.from_pretrained(str(out), output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    layer = "encoder.layer.1.attention.self.query.weight"
    assert not torch.equal(before.state_dict()[layer], adapted.state_dict()[layer])
    assert torch.equal(before.state_dict()["pooler.dense.weight"], adapted.state_dict()["pooler.dense.weight"])

    with pytest.raises(ValueError, match="not empty"):
        adapt_backbone(texts, config, out, progress=False, log=lambda _: None)

    # the adapted directory is a backbone the trainer fine-tunes like any other
    from conftest import tiny_config
    from synthetic import synthetic_documents

    from sourcemark.model.annotator import Annotator
    from sourcemark.training.trainer import Trainer

    model = tmp_path / "model"
    Trainer(tiny_config(out, epochs=1), model, progress=False, log=lambda _: None).train(
        synthetic_documents(8, seed=3), synthetic_documents(2, seed=4))
    annotated = list(Annotator.load(model).annotate(synthetic_documents(2, seed=5)))
    assert all(p.label for d in annotated for p in d.passages)


def test_adapt_command_refuses_input_with_nothing_to_adapt_on(tmp_path: Path, tiny_backbone: Path) -> None:
    _, dev = split_real_articles()
    only_dev = _write_jsonl(tmp_path / "dev.jsonl", [{"doc_id": d.doc_id, "text": d.text} for d in dev[:2]])
    result = CliRunner().invoke(app, ["adapt", str(only_dev), "--out", str(tmp_path / "out"),
                                      "--base-model", str(tiny_backbone), "--quiet"])
    assert result.exit_code == 1
    assert "2 held out" in result.output and "no text to adapt on" in result.output
    assert not (tmp_path / "out").exists()
