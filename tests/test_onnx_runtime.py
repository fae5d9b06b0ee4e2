"""The ONNX Runtime encoder: same hidden states as torch, same labels from ``score --runtime onnx``, cached graphs.

Cached graphs and int8 verdicts are keyed by the weights' sha256, never by file
times: weights copied in with their old times must not be paired with a stale
graph, and a damaged graph is exported again rather than abandoned.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from sourcemark.cli import app
from sourcemark.jsonl import read_documents
from sourcemark.model.annotator import Annotator, file_sha256
from sourcemark.model.encoding import build_windows
from sourcemark.model.network import collate

pytest.importorskip("onnxruntime")
from sourcemark.scoring.int8_check import cached_verdict, verdict_path, within_rule  # noqa: E402
from sourcemark.scoring.runtime import use_runtime  # noqa: E402
from sourcemark.model.onnx_encoder import (  # noqa: E402
    QUANTISED_OPS, OnnxEncoder, cache_key, export_encoder, graph_path, key_path, layer_pattern, use_onnx)

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def model_dir(trained, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny trained model, so the cached graphs do not land in the shared fixture."""
    copy = tmp_path_factory.mktemp("onnx") / "tiny"
    shutil.copytree(trained[0], copy)
    return copy


def _real_batch(annotator: Annotator, docs) -> dict[str, torch.Tensor]:
    """Windows of real documents, padded to one batch, with some tokens of type 1 (comment sections)."""
    windows = [w for i, d in enumerate(docs) for w in build_windows(d, i, annotator.tokenizer, 128, 16)]
    batch = collate([w.to_dict() for w in windows[:6]], annotator.tokenizer.pad_token_id or 0)
    types = batch["token_type_ids"]
    types[0, 5:] = 1
    types[2, 1:4] = 1
    types *= batch["attention_mask"]
    assert (batch["attention_mask"] == 0).any(), "the batch must have padded rows"
    return batch


def test_onnx_hidden_states_match_torch(model_dir: Path, trained) -> None:
    annotator = Annotator.load(model_dir)
    encoder = annotator.net.encoder
    batch = _real_batch(annotator, trained[1])
    onnx = OnnxEncoder(export_encoder(encoder, model_dir, "none"), encoder.config)
    assert not encoder.training  # exporting must not switch the caller's encoder to training mode
    ids, mask, types = batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]
    with torch.inference_mode():
        expected = encoder(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        without_types = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        got = onnx(ids, mask, types).last_hidden_state
        got_without_types = onnx(ids, mask).last_hidden_state
    # the comparison can see a dropped or swapped input: token types do change the states
    assert (expected - without_types).abs().max() > 1e-3
    assert got.shape == expected.shape
    assert (got - expected).abs().max() < 1e-4  # every position, padding included
    assert (got_without_types - without_types).abs().max() < 1e-4


def test_graph_is_cached_under_the_weights_hash(model_dir: Path) -> None:
    annotator = Annotator.load(model_dir)
    assert annotator.weights_sha256 == file_sha256(model_dir / "model.safetensors")
    path = export_encoder(annotator.net.encoder, model_dir, "none")
    assert path == graph_path(model_dir, "none")
    key = json.loads(key_path(path).read_text(encoding="utf-8"))
    assert key == cache_key(annotator.weights_sha256, "none") and key["recipe"] == "none" and key["opset"]
    before = path.stat().st_mtime_ns
    assert export_encoder(annotator.net.encoder, model_dir, "none").stat().st_mtime_ns == before
    # times are not the key: the same weights touched later keep their graph
    newer = path.stat().st_mtime + 10
    os.utime(model_dir / "model.safetensors", (newer, newer))
    assert export_encoder(annotator.net.encoder, model_dir, "none").stat().st_mtime_ns == before
    # a graph whose key names other weights is exported again
    key_path(path).write_text(json.dumps(cache_key("0" * 64, "none")), encoding="utf-8")
    assert export_encoder(annotator.net.encoder, model_dir, "none").stat().st_mtime_ns != before
    assert json.loads(key_path(path).read_text(encoding="utf-8")) == key
    assert not [p for p in model_dir.iterdir() if p.name.endswith(".tmp")]


def test_use_onnx_swaps_only_the_encoder(model_dir: Path, trained) -> None:
    torch_run = [d.to_dict() for d in Annotator.load(model_dir).annotate(trained[1])]
    annotator = Annotator.load(model_dir)
    use_onnx(annotator, model_dir)
    assert isinstance(annotator.net.encoder, OnnxEncoder)
    onnx_run = [d.to_dict() for d in annotator.annotate(trained[1])]
    assert _labels(onnx_run) == _labels(torch_run)


def _labels(docs: list[dict]) -> list[list[tuple]]:
    """Spans, roles and mention spans and types (scores are floats: compared elsewhere with a tolerance)."""
    return [[(p["start"], p["end"], p["label"], [(s["start"], s["end"], s["type"]) for s in p["sources"]])
             for p in d["passages"]] for d in docs]


def _input_folder(tmp_path: Path, docs) -> Path:
    """The documents as .txt files in a folder, as a user would score them."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for doc in docs:
        (folder / f"{doc.doc_id}.txt").write_text(doc.text, encoding="utf-8")
    return folder


def _score(folder: Path, model: Path, out: Path, runtime: str | None) -> tuple[list, str]:
    """``sourcemark score`` with ``--runtime`` (None: the default); the documents written and the output."""
    flags = [] if runtime is None else ["--runtime", runtime]
    result = runner.invoke(app, ["score", str(folder), "--model", str(model), "--out", str(out), "--quiet", *flags])
    assert result.exit_code == 0, result.output
    return list(read_documents(out)), result.output


def test_score_runtime_onnx_gives_the_same_labels(model_dir: Path, trained, tmp_path: Path) -> None:
    folder = _input_folder(tmp_path, trained[1])
    graph_path(model_dir).unlink(missing_ok=True)
    outputs = {}
    for runtime in ("torch", "onnx", None):
        docs, _ = _score(folder, model_dir, tmp_path / f"{runtime}.jsonl", runtime)
        outputs[runtime] = {d.doc_id: d for d in docs}
        if runtime == "torch":
            assert not graph_path(model_dir).exists()  # torch never exports
    assert graph_path(model_dir).is_file()
    for runtime in ("onnx", None):  # the default (auto) runs the same ONNX graph
        assert len(outputs[runtime]) == len(trained[1])
        for doc_id, expected in outputs["torch"].items():
            _assert_same_predictions(outputs[runtime][doc_id], expected)


def _assert_same_predictions(got, expected) -> None:
    assert [(p.start, p.end, p.label) for p in got.passages] == [(p.start, p.end, p.label) for p in expected.passages]
    assert [[(s.start, s.end, s.type) for s in p.sources] for p in got.passages] == \
        [[(s.start, s.end, s.type) for s in p.sources] for p in expected.passages]
    for a, b in zip(got.passages, expected.passages):
        assert max(abs(a.probs[r] - b.probs[r]) for r in b.probs) < 1e-3


def test_default_runtime_falls_back_to_torch_when_the_graph_cannot_be_cached(trained, tmp_path: Path) -> None:
    """A model directory where encoder.onnx cannot be written (here: a folder is in its place) still scores."""
    blocked = tmp_path / "model"
    shutil.copytree(trained[0], blocked)
    graph_path(blocked).unlink(missing_ok=True)
    graph_path(blocked).mkdir()
    folder = _input_folder(tmp_path, trained[1][:1])
    with_torch, _ = _score(folder, blocked, tmp_path / "torch.jsonl", "torch")
    with_auto, output = _score(folder, blocked, tmp_path / "auto.jsonl", "auto")
    assert "runtime auto: no ONNX graph" in output and "scoring with torch" in output
    assert [d.to_dict() for d in with_auto] == [d.to_dict() for d in with_torch]
    explicit = runner.invoke(app, ["score", str(folder), "--model", str(blocked), "--out",
                                   str(tmp_path / "onnx.jsonl"), "--quiet", "--runtime", "onnx"])
    assert explicit.exit_code == 1  # asked for by name, the failure is an error, not a silent fallback


def test_score_runtime_onnx_int8_scores_every_passage(model_dir: Path, trained, tmp_path: Path) -> None:
    folder = _input_folder(tmp_path, trained[1])
    docs, output = _score(folder, model_dir, tmp_path / "int8.jsonl", "onnx-int8")
    assert graph_path(model_dir, "int8").is_file() and graph_path(model_dir, "int8").name != "encoder.int8.onnx"
    assert len(docs) == len(trained[1]) and all(p.label for d in docs for p in d.passages)
    # the first use checked the int8 graph on both bundled dev sets and cached the verdict beside it
    assert "checking the int8 graph" in output
    verdict = json.loads(verdict_path(graph_path(model_dir, "int8")).read_text(encoding="utf-8"))
    assert set(verdict["fp32"]) == set(verdict["int8"]) == {"corpus_dev", "real_dev"}
    assert verdict["passed"] == within_rule(verdict["fp32"], verdict["int8"])
    _, again = _score(folder, model_dir, tmp_path / "again.jsonl", "onnx-int8")
    assert "checking the int8 graph" not in again  # cached


def test_int8_that_fails_the_dev_check_scores_with_fp32(model_dir: Path, trained, tmp_path: Path) -> None:
    folder = _input_folder(tmp_path, trained[1][:2])
    graph = export_encoder(Annotator.load(model_dir).net.encoder, model_dir, "int8")
    figures = {"corpus_dev": {"role_macro_f1": 0.9, "mention_f1": 0.8}, "real_dev": {"role_macro_f1": 0.9, "mention_f1": 0.8}}
    failed = {"corpus_dev": {"role_macro_f1": 0.85, "mention_f1": 0.8}, "real_dev": {"role_macro_f1": 0.9, "mention_f1": 0.8}}
    assert not within_rule(figures, failed)
    key = cache_key(file_sha256(model_dir / "model.safetensors"), "int8")
    verdict_path(graph).write_text(json.dumps({"passed": False, "fp32": figures, "int8": failed, "key": key}),
                                   encoding="utf-8")
    with_fp32, _ = _score(folder, model_dir, tmp_path / "onnx.jsonl", "onnx")
    with_int8, output = _score(folder, model_dir, tmp_path / "int8.jsonl", "onnx-int8")
    assert "beyond the rule" in output and "fp32 ONNX graph" in output
    assert [d.to_dict() for d in with_int8] == [d.to_dict() for d in with_fp32]
    verdict_path(graph).unlink()


def test_unknown_runtime_is_a_usage_error(model_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", str(tmp_path), "--model", str(model_dir), "--out",
                                 str(tmp_path / "p.jsonl"), "--runtime", "tensorrt"])
    assert result.exit_code == 2  # a click usage error: the choices come from the Runtime enum
    assert "'tensorrt' is not one of" in result.output and "onnx-int8" in result.output


def test_int8_recipe_keeps_the_excluded_layers_in_fp32(model_dir: Path, trained) -> None:
    import onnx

    annotator = Annotator.load(model_dir)
    late = {"int8-pc-late": {"op_types_to_quantize": QUANTISED_OPS, "per_channel": True,
                             "exclude": layer_pattern(lambda n: list(range(n // 2)))}}
    path = export_encoder(annotator.net.encoder, model_dir, "int8-pc-late", recipes=late)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    # two layers: the first (its fused attention too) stays fp32, the second is int8
    assert ops.count("Attention") == 1 and ops.count("QAttention") == 1
    assert ops.count("MatMul") == 3 and ops.count("MatMulInteger") == 3
    batch = _real_batch(annotator, trained[1])
    ids, mask, types = batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]
    with torch.inference_mode():
        expected = annotator.net.encoder(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    got = OnnxEncoder(path, annotator.net.encoder.config)(ids, mask, types).last_hidden_state
    real = mask.bool()
    # close, not equal: the quantised layer's error, small next to the states' own spread
    assert (got - expected)[real].abs().mean() < 0.1 * expected[real].std()


def _other_model(trained, tiny_backbone: Path, folder: Path) -> Path:
    """A second, different model: the trained heads on the encoder as it was before training."""
    shutil.copytree(trained[0], folder)
    state = load_file(str(folder / "model.safetensors"))
    untrained = load_file(str(tiny_backbone / "model.safetensors"))
    swapped = [k for k in untrained if f"encoder.{k}" in state]
    assert swapped, "the backbone's weights must map onto the encoder's"
    for k in swapped:
        state[f"encoder.{k}"] = untrained[k]
    save_file(state, str(folder / "model.safetensors"))
    return folder


def test_weights_copied_with_their_old_times_get_their_own_graph(trained, tiny_backbone: Path,
                                                                 tmp_path: Path) -> None:
    """``cp -p`` / ``rsync -a`` / ``tar x`` of new weights into a model folder: the cached graph is exported again."""
    first = tmp_path / "first"
    shutil.copytree(trained[0], first)
    second = _other_model(trained, tiny_backbone, tmp_path / "second")
    folder = _input_folder(tmp_path, trained[1])
    before, _ = _score(folder, first, tmp_path / "before.jsonl", "onnx")
    graph = graph_path(first)
    int8 = export_encoder(Annotator.load(first).net.encoder, first, "int8")
    old_key = cache_key(file_sha256(first / "model.safetensors"), "int8")
    verdict_path(int8).write_text(json.dumps({"passed": True, "key": old_key}), encoding="utf-8")
    # the second model's weights, dated before the graphs were made, as a copy keeping times leaves them
    shutil.copy2(second / "model.safetensors", first / "model.safetensors")
    older = min(graph.stat().st_mtime, int8.stat().st_mtime) - 100
    os.utime(first / "model.safetensors", (older, older))
    with_torch, _ = _score(folder, first, tmp_path / "torch.jsonl", "torch")
    with_onnx, _ = _score(folder, first, tmp_path / "onnx.jsonl", "onnx")
    # the test can see a stale graph: the two models label these documents differently
    assert _labels([d.to_dict() for d in with_torch]) != _labels([d.to_dict() for d in before])
    assert len(with_onnx) == len(with_torch)
    for got, expected in zip(with_onnx, with_torch):
        _assert_same_predictions(got, expected)
    new_sha = file_sha256(second / "model.safetensors")
    assert json.loads(key_path(graph).read_text(encoding="utf-8"))["weights_sha256"] == new_sha
    # the int8 verdict is keyed the same way: the old weights' verdict is not the new weights'
    assert cached_verdict(int8, old_key) is not None
    assert cached_verdict(int8, cache_key(new_sha, "int8")) is None


def test_a_truncated_graph_is_exported_again_and_used(trained, tmp_path: Path) -> None:
    import onnx

    model = tmp_path / "model"
    shutil.copytree(trained[0], model)
    graph = export_encoder(Annotator.load(model).net.encoder, model, "none")
    with open(graph, "r+b") as handle:
        handle.truncate(16)
    notices: list[str] = []
    annotator = Annotator.load(model)
    assert use_runtime(annotator, model, "auto", notice=notices.append) == "onnx"
    assert notices == []
    assert isinstance(annotator.net.encoder, OnnxEncoder) and annotator.net.encoder.path == graph
    onnx.checker.check_model(onnx.load(str(graph)))
    assert graph.stat().st_size > 1000
    # asked for by name, the same: rebuilt, not an error
    with open(graph, "r+b") as handle:
        handle.truncate(16)
    assert use_runtime(Annotator.load(model), model, "onnx") == "onnx"
    onnx.checker.check_model(onnx.load(str(graph)))


def test_an_int8_graph_made_from_a_truncated_fp32_graph_is_exported_again(trained, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained[0], model)
    annotator = Annotator.load(model)
    fp32 = export_encoder(annotator.net.encoder, model, "none")
    with open(fp32, "r+b") as handle:
        handle.truncate(16)
    int8 = export_encoder(annotator.net.encoder, model, "int8")
    assert fp32.stat().st_size > 1000 and int8.is_file()
    OnnxEncoder(int8, annotator.net.encoder.config)
