"""The model stage: real (tiny) training, save/load, determinism, resume, bad model directories."""

from __future__ import annotations

import ast
import json
import shutil
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModel

from sourcemark.documents import Document
from sourcemark.model.annotator import SAVED_BEFORE_SETTING, Annotator, ModelLoadError, ModelSettings
from sourcemark.training import trainer as trainer_module
from sourcemark.training.config import TrainConfig
from sourcemark.training.trainer import Trainer, epoch_order, epoch_windows
from sourcemark.validation import ERROR, validate_record
from conftest import tiny_config as _config
from synthetic import synthetic_documents

pytestmark = pytest.mark.slow


def test_trained_model_beats_majority_and_writes_valid_documents(trained) -> None:
    out, dev = trained
    annotator = Annotator.load(out)
    predictions = list(annotator.annotate(dev))
    gold = [p.label for d in dev for p in d.passages]
    predicted = [p.label for d in predictions for p in d.passages]
    accuracy = sum(g == p for g, p in zip(gold, predicted)) / len(gold)
    majority = Counter(gold).most_common(1)[0][1] / len(gold)
    assert accuracy > majority + 0.2, (accuracy, majority)
    for doc in predictions:
        assert doc.model_version == annotator.model_version
        problems = [p for p in validate_record(doc.to_dict(), "pred") if p.level == ERROR]
        assert problems == []
        for p in doc.passages:
            assert abs(sum(p.probs.values()) - 1.0) < 1e-3 and p.score == max(p.probs.values())


def test_saved_directory_is_self_describing(trained) -> None:
    out, _ = trained
    names = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "config.json", "sourcemark.json", "tokenizer.json"} <= names
    settings = json.loads((out / "sourcemark.json").read_text())
    assert settings["roles"][0] == "claim" and settings["temperature"] > 0
    assert settings["registry_version"]
    assert not (out / "checkpoint").exists()


def test_save_load_round_trip_gives_identical_outputs(trained, tmp_path: Path) -> None:
    out, dev = trained
    first = Annotator.load(out)
    first.save(tmp_path / "copy")
    second = Annotator.load(tmp_path / "copy")
    a = [d.to_dict() for d in first.annotate(dev)]
    b = [d.to_dict() for d in second.annotate(dev)]
    assert a == b


def test_unsegmented_input_is_segmented(trained) -> None:
    out, _ = trained
    doc = Document("raw", "SOHR said 12 people died in Homs. It is likely to get worse.\n\n2 Comments\nlol no\n")
    (pred,) = Annotator.load(out).annotate([doc])
    assert [pred.text[p.start : p.end] for p in pred.passages] == [
        "SOHR said 12 people died in Homs.", "It is likely to get worse.", "2 Comments", "lol no"]
    assert pred.passages[-1].section == "comments"


def test_training_is_deterministic_for_a_seed(tiny_backbone: Path, tmp_path: Path) -> None:
    train = synthetic_documents(8, seed=3)
    states = []
    for name in ("a", "b"):
        Trainer(_config(tiny_backbone, epochs=1, max_steps=3), tmp_path / name, progress=False,
                log=lambda m: None).train(train, [])
        states.append((tmp_path / name / "model.safetensors").read_bytes())
    assert states[0] == states[1]


def test_a_plain_corpus_share_shortens_every_epoch_of_a_real_training(tiny_backbone: Path, tmp_path: Path) -> None:
    train = synthetic_documents(8, seed=3)  # user documents: the corpus, to the trainer
    steps = {}
    for share in (1.0, 0.25):
        result = Trainer(_config(tiny_backbone, epochs=2, plain_corpus_share=share), tmp_path / str(share),
                         progress=False, log=lambda m: None).train(train, [])
        steps[share] = [h["step"] for h in result.history]
        assert result.counts["train_windows"] > 0
    per_epoch_all, per_epoch_share = steps[1.0][0], steps[0.25][0]
    assert steps[1.0] == [per_epoch_all, 2 * per_epoch_all]
    assert steps[0.25] == [per_epoch_share, 2 * per_epoch_share]
    assert per_epoch_share < 0.8 * per_epoch_all  # plain windows (no mention) are most of them


@pytest.mark.parametrize("freeze", [True, False])
def test_word_embeddings_stay_pretrained_only_when_frozen(tiny_backbone: Path, tmp_path: Path, freeze: bool) -> None:
    Trainer(_config(tiny_backbone, epochs=1, max_steps=3, freeze_word_embeddings=freeze), tmp_path,
            progress=False, log=lambda m: None).train(synthetic_documents(8, seed=3), [])
    before = AutoModel.from_pretrained(str(tiny_backbone)).state_dict()
    after = load_file(str(tmp_path / "model.safetensors"))
    word = next(k for k in after if k.endswith("word_embeddings.weight"))
    layer = next(k for k in after if k.endswith("layer.0.attention.self.query.weight"))
    # the net stores the backbone under "encoder.": strip that prefix to find the pre-trained tensor
    assert torch.equal(after[word], before[word.removeprefix("encoder.")]) == freeze
    assert not torch.equal(after[layer], before[layer.removeprefix("encoder.")])


def test_interrupted_training_resumes(tiny_backbone: Path, tmp_path: Path, monkeypatch) -> None:
    train, dev = synthetic_documents(8, seed=4), synthetic_documents(2, seed=5)
    config = _config(tiny_backbone, epochs=2)
    Trainer(config, tmp_path / "straight", progress=False, log=lambda m: None).train(train, dev)

    real_scores = trainer_module.dev_scores
    calls = {"n": 0}

    def crash_on_second_epoch(annotator, docs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated kill")
        return real_scores(annotator, docs)

    monkeypatch.setattr(trainer_module, "dev_scores", crash_on_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        Trainer(config, tmp_path / "resumed", progress=False, log=lambda m: None).train(train, dev)
    assert (tmp_path / "resumed" / "checkpoint" / "state.pt").is_file()
    monkeypatch.setattr(trainer_module, "dev_scores", real_scores)
    messages: list[str] = []
    Trainer(config, tmp_path / "resumed", progress=False, log=messages.append).train(train, dev)
    assert any("resuming from epoch 2" in m for m in messages)
    straight = (tmp_path / "straight" / "model.safetensors").read_bytes()
    resumed = (tmp_path / "resumed" / "model.safetensors").read_bytes()
    assert straight == resumed


def test_bad_model_directories(trained, tmp_path: Path) -> None:
    out, _ = trained
    with pytest.raises(ModelLoadError, match="no such model directory"):
        Annotator.load(tmp_path / "missing")
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match="missing model.safetensors"):
        Annotator.load(broken)
    relabelled = tmp_path / "relabelled"
    shutil.copytree(out, relabelled)
    settings = json.loads((relabelled / "sourcemark.json").read_text())
    settings["roles"] = ["claim", "opinion", "analysis", "reader_comment", "other"]
    (relabelled / "sourcemark.json").write_text(json.dumps(settings))
    with pytest.raises(ModelLoadError, match="roles label map"):
        Annotator.load(relabelled)
    garbage = tmp_path / "garbage"
    shutil.copytree(out, garbage)
    (garbage / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelLoadError, match="weights"):
        Annotator.load(garbage)


def test_length_grouped_order_is_a_shuffle_with_less_padding() -> None:
    lengths = [int(x) for x in torch.randint(3, 120, (1000,), generator=torch.Generator().manual_seed(0))]

    def padded_tokens(order: torch.Tensor, batch: int = 8) -> int:
        idx = order.tolist()
        return sum(max(lengths[i] for i in idx[b : b + batch]) * len(idx[b : b + batch])
                   for b in range(0, len(idx), batch))

    grouped_cfg, random_cfg = TrainConfig(group_by_length=True), TrainConfig(group_by_length=False)
    grouped = epoch_order(lengths, grouped_cfg, epoch=0)
    assert sorted(grouped.tolist()) == list(range(1000))  # every window once per epoch
    assert torch.equal(grouped, epoch_order(lengths, grouped_cfg, epoch=0))  # deterministic
    assert not torch.equal(grouped, epoch_order(lengths, grouped_cfg, epoch=1))  # reshuffled each epoch
    shuffled = epoch_order(lengths, random_cfg, epoch=0)
    assert padded_tokens(grouped) < 0.75 * padded_tokens(shuffled)
    assert grouped[:50].tolist() != sorted(grouped[:50].tolist())  # still shuffled, not sorted by index


def test_a_plain_corpus_share_rotates_through_those_windows_and_keeps_the_others() -> None:
    rotating = [k % 3 != 0 for k in range(300)]  # a third fixed (real, mentions), two thirds plain corpus
    fixed = {k for k, r in enumerate(rotating) if not r}
    corpus = {k for k, r in enumerate(rotating) if r}
    seen: list[int] = []
    for epoch in range(3):
        chosen = epoch_windows(rotating, 0.4, seed=13, epoch=epoch)
        assert fixed <= set(chosen) and len(chosen) == len(fixed) + 80  # 40% of the 200 corpus windows
        seen += [k for k in chosen if k in corpus]
    assert set(seen) == corpus  # three epochs of 40% cover the whole corpus
    assert len(seen) - len(set(seen)) == 40  # and only the wrap-around repeats
    assert epoch_windows(rotating, 1.0, seed=13, epoch=2) == list(range(300))
    lengths = [5 + k % 40 for k in range(300)]
    order = epoch_order(lengths, TrainConfig(plain_corpus_share=0.4), epoch=1, rotating=rotating)
    assert sorted(order.tolist()) == epoch_windows(rotating, 0.4, seed=13, epoch=1)


def test_a_model_saved_before_a_setting_existed_keeps_what_it_did(trained, tmp_path: Path) -> None:
    out, dev = trained
    old = tmp_path / "old"
    shutil.copytree(out, old)
    settings = json.loads((old / "sourcemark.json").read_text())
    for key in SAVED_BEFORE_SETTING:
        del settings[key]
    (old / "sourcemark.json").write_text(json.dumps(settings))
    loaded = Annotator.load(old)
    # such models packed passages with context, whatever the default of new models is
    assert loaded.settings.isolate_passages is False and loaded.settings.mention_threshold == 0.0
    assert Annotator.load(out).settings.isolate_passages is True


def test_model_settings_and_training_defaults_are_one_definition(tiny_backbone: Path) -> None:
    fresh, trained_default = ModelSettings("v", "b"), TrainConfig()
    for name in ("max_length", "context", "isolate_passages"):
        assert getattr(fresh, name) == getattr(trained_default, name)
    config = _config(tiny_backbone, isolate_passages=False)
    settings = ModelSettings.from_config(config, "v1")
    assert (settings.model_version, settings.backbone, settings.max_length, settings.context,
            settings.isolate_passages) == ("v1", str(tiny_backbone), 128, 16, False)
    assert settings.training == {"config": asdict(config)}


def test_the_model_stage_imports_no_other_stage() -> None:
    model_dir = Path(__file__).resolve().parents[1] / "model"
    forbidden = ("sourcemark.training", "sourcemark.eval", "sourcemark.annotation", "sourcemark.scoring")
    found = []
    for path in sorted(model_dir.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):  # "from sourcemark import training" counts too
                assert node.level <= 1, f"{path.name}: a relative import out of the model stage"
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                names = []
            found += [f"{path.name}: {n}" for n in names if n.startswith(forbidden)]
    assert found == []
