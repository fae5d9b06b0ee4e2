"""The Ray engine on a local Ray instance (2 CPUs) scores exactly what the local engine scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcemark.cli import app
from sourcemark.jsonl import dumps_document, read_documents

ray = pytest.importorskip("ray", reason="the Ray engine is the optional extra sourcemark[ray]")
pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture()
def inputs(tmp_path: Path, trained) -> Path:
    """Text files, a JSONL shard (one bad line, one id that repeats a file's), an empty file."""
    _, dev = trained
    folder = tmp_path / "in"
    folder.mkdir()
    for doc in dev[:3]:
        (folder / f"{doc.doc_id}.txt").write_text(doc.text, encoding="utf-8")
    shard = [dumps_document(doc) for doc in dev[3:]] + ["{not json", json.dumps({"doc_id": dev[0].doc_id,
                                                                                 "text": dev[0].text})]
    (folder / "shard.jsonl").write_text("\n".join(shard) + "\n", encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    return folder


def _score(model: Path, folder: Path, out: Path, *extra: str):
    return runner.invoke(app, ["score", str(folder), "--model", str(model), "--out", str(out), "--quiet",
                               "--errors", str(out.with_suffix(".errors.jsonl")), *extra])


def _comparable(path: Path) -> tuple[dict[str, list], dict[str, list[float]]]:
    """Per document: passage spans, labels and mentions (compared exactly) and probabilities (with a tolerance)."""
    docs = {doc.doc_id: doc for doc in read_documents(path)}
    exact = {i: [(p.start, p.end, p.label, [(s.start, s.end, s.type, s.extra.get("registry_id")) for s in p.sources])
                 for p in d.passages] for i, d in docs.items()}
    probs = {i: [v for p in d.passages for v in (p.probs or {}).values()] for i, d in docs.items()}
    return exact, probs


def _errors(path: Path) -> list[tuple[str, str]]:
    return sorted((Path(e["where"].split(":")[0]).name, e["error"])
                  for e in map(json.loads, path.read_text(encoding="utf-8").splitlines()))


def test_ray_engine_matches_local_engine(trained, inputs: Path, tmp_path: Path, local_ray) -> None:
    model, dev = trained
    local, distributed = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    first = _score(model, inputs, local)
    second = _score(model, inputs, distributed, "--engine", "ray", "--actors", "2")
    assert first.exit_code == second.exit_code == 2, second.output
    assert f"scored {len(dev) + 1}, skipped 0" in second.output and "failed 2" in second.output
    expected, expected_probs = _comparable(local)
    assert len(expected) == len(dev) + 1 and f"{dev[0].doc_id}-2" in expected
    got, got_probs = _comparable(distributed)
    assert got == expected
    for doc_id, values in expected_probs.items():
        assert len(got_probs[doc_id]) == len(values)
        assert max((abs(a - b) for a, b in zip(got_probs[doc_id], values)), default=0.0) < 1e-3
    assert _errors(distributed.with_suffix(".errors.jsonl")) == _errors(local.with_suffix(".errors.jsonl"))


def test_ray_engine_resumes(trained, inputs: Path, tmp_path: Path, local_ray) -> None:
    model, dev = trained
    out = tmp_path / "ray.jsonl"
    assert _score(model, inputs, out, "--engine", "ray").exit_code == 2
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    dropped = [json.loads(line)["doc_id"] for line in lines[-2:]]
    out.write_text("".join(lines[:-2]), encoding="utf-8")
    result = _score(model, inputs, out, "--engine", "ray")
    assert f"scored 2, skipped {len(dev) - 1}" in result.output, result.output
    assert sorted(d.doc_id for d in read_documents(out)) == sorted([d.doc_id for d in dev] + [f"{dev[0].doc_id}-2"])
    assert set(dropped) <= {d.doc_id for d in read_documents(out)}
