"""A model folder as users copy it around: refused when its tokenizer is missing or another model's, saved readable."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcemark.cli import app
from sourcemark.model.annotator import Annotator, ModelLoadError

pytestmark = pytest.mark.slow
runner = CliRunner()

#: What ``tokenizer.save_pretrained`` may write; none of it is the encoder.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


def _without_tokenizer(trained, folder: Path) -> Path:
    shutil.copytree(trained[0], folder)
    for name in TOKENIZER_FILES:
        (folder / name).unlink(missing_ok=True)
    return folder


def _score(model: Path, trained, tmp_path: Path):
    """``sourcemark score`` of one dev document with ``model`` (torch, so no graph is exported)."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    doc = trained[1][0]
    (folder / f"{doc.doc_id}.txt").write_text(doc.text, encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    result = runner.invoke(app, ["score", str(folder), "--model", str(model), "--out", str(out), "--quiet",
                                 "--runtime", "torch"])
    return result, out


def _one_error_line(result, model: Path) -> str:
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert result.exit_code == 1, result.output
    assert len(errors) == 1, result.output
    assert str(model) in errors[0]
    return errors[0]


def test_a_folder_without_tokenizer_files_is_refused(trained, tmp_path: Path) -> None:
    model = _without_tokenizer(trained, tmp_path / "model")
    with pytest.raises(ModelLoadError, match="no tokenizer files"):
        Annotator.load(model)
    result, out = _score(model, trained, tmp_path)
    line = _one_error_line(result, model)
    assert "tokenizer" in line and "tokenizer.json" in line
    assert not out.exists() or out.read_text(encoding="utf-8") == ""


def test_a_tokenizer_of_another_vocabulary_is_refused(trained, tmp_path: Path) -> None:
    from transformers import BertTokenizer

    model = _without_tokenizer(trained, tmp_path / "model")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz"]
    BertTokenizer(vocab={w: i for i, w in enumerate(words)}).save_pretrained(str(model))
    with pytest.raises(ModelLoadError, match="31 tokens"):
        Annotator.load(model)
    result, _ = _score(model, trained, tmp_path)
    line = _one_error_line(result, model)
    assert "31 tokens" in line and str(Annotator.load(trained[0]).net.encoder.config.vocab_size) in line


def test_the_saved_tokenizer_still_loads(trained) -> None:
    annotator = Annotator.load(trained[0])
    assert len(annotator.tokenizer) == annotator.net.encoder.config.vocab_size


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["umask022", "umask077"])
def test_saved_model_files_follow_the_umask(trained, tmp_path: Path, umask: int) -> None:
    annotator = Annotator.load(trained[0])
    previous = os.umask(umask)
    try:
        annotator.save(tmp_path / "copy")
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "copy").iterdir() if p.is_file()}
    assert "model.safetensors" in modes
    assert modes == {name: 0o666 & ~umask for name in modes}
