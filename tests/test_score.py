"""Batch scoring: valid output, resume, bad documents recorded, exit codes, summaries that add up."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcemark.cli import app
from sourcemark.jsonl import read_documents
from sourcemark.scoring.batch import load_output
from sourcemark.validation import ERROR, validate_file

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture()
def inputs(tmp_path: Path, trained) -> Path:
    _, dev = trained
    folder = tmp_path / "in"
    folder.mkdir()
    for doc in dev:
        (folder / f"{doc.doc_id}.txt").write_text(doc.text, encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / "latin1.txt").write_bytes("Caf\xe9 bombed.".encode("latin-1"))
    return folder


def _score(model: Path, folder: Path, out: Path, *extra: str):
    return runner.invoke(app, ["score", str(folder), "--model", str(model), "--out", str(out), "--quiet", *extra])


def test_scores_valid_predictions_and_records_failures(trained, inputs: Path, tmp_path: Path) -> None:
    model, dev = trained
    out, errors, summary = tmp_path / "pred.jsonl", tmp_path / "errors.jsonl", tmp_path / "summary.csv"
    result = _score(model, inputs, out, "--errors", str(errors), "--summary", str(summary))
    assert result.exit_code == 2, result.output
    assert f"scored {len(dev)}, skipped 0" in result.output and "failed 2" in result.output
    assert [p for p in validate_file(out) if p.level == ERROR] == []
    docs = list(read_documents(out))
    assert {d.doc_id for d in docs} == {d.doc_id for d in dev}
    assert all(d.model_version for d in docs)
    failures = [json.loads(line) for line in errors.read_text().splitlines()]
    reasons = {Path(f["where"]).name: f["error"] for f in failures}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["latin1.txt"].startswith("not UTF-8: invalid byte 0xe9 at byte offset 3")
    rows = {r["doc_id"]: r for r in csv.DictReader(summary.open())}
    for doc in docs:
        row = rows[doc.doc_id]
        assert int(row["passages"]) == len(doc.passages)
        assert int(row["passages_claim"]) == sum(p.label == "claim" for p in doc.passages)
        assert int(row["mentions_monitor_group"]) == sum(s.type == "monitor_group" for p in doc.passages for s in p.sources)
        shares = sum(float(row[f"share_chars_{r}"]) for r in
                     ("claim", "attributed_report", "analysis", "reader_comment", "other"))
        assert abs(shares - 1.0) < 1e-3


def test_rerun_resumes_and_repairs_a_torn_line(trained, inputs: Path, tmp_path: Path) -> None:
    model, dev = trained
    for bad in ("empty.txt", "latin1.txt"):
        (inputs / bad).unlink()
    out = tmp_path / "pred.jsonl"
    assert _score(model, inputs, out).exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    # simulate a crash: the last document half written
    out.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2], encoding="utf-8")
    assert len(load_output(out)[0]) == len(dev) - 1
    result = _score(model, inputs, out)
    assert result.exit_code == 0, result.output
    assert f"scored 1, skipped {len(dev) - 1}" in result.output
    docs = list(read_documents(out))
    assert sorted(d.doc_id for d in docs) == sorted(d.doc_id for d in dev)


def test_fatal_errors_exit_1(tmp_path: Path, inputs: Path) -> None:
    result = _score(tmp_path / "no-model", inputs, tmp_path / "pred.jsonl")
    assert result.exit_code == 1
    assert "no such model directory" in result.output


def test_chunks_start_small_and_double_up_to_the_chunk_size() -> None:
    """The first predictions are written after a couple of documents; then full chunks, nothing lost or repeated."""
    from sourcemark.streaming import chunked

    sizes = [len(c) for c in chunked(range(100), 32, first=2)]
    assert sizes == [2, 4, 8, 16, 32, 32, 6]
    assert [x for c in chunked(range(100), 32, first=2) for x in c] == list(range(100))
    assert [len(c) for c in chunked(range(70), 32)] == [32, 32, 6]


def test_prefetched_keeps_order_raises_where_the_producer_failed_and_stops_when_closed() -> None:
    import threading
    import time

    from sourcemark.streaming import prefetched

    assert list(prefetched(iter(range(50)), depth=2)) == list(range(50))

    def failing():
        yield from (1, 2)
        raise ValueError("bad record 3")

    got = []
    with pytest.raises(ValueError, match="bad record 3"):
        for item in prefetched(failing()):
            got.append(item)
    assert got == [1, 2]

    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    stream = prefetched(endless())
    assert next(stream) == 0
    stream.close()
    time.sleep(0.3)
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count <= 3  # the producer stopped, at most a slot or two ahead
    assert not any(t.name == "prefetch" and t.is_alive() for t in threading.enumerate())


def test_scoring_with_segmentation_run_ahead_writes_what_annotate_gives(trained, inputs: Path,
                                                                       tmp_path: Path) -> None:
    """Documents prepared in the prefetch thread are scored exactly as the annotator scores them itself."""
    from sourcemark.documents import Document
    from sourcemark.jsonl import dumps_document
    from sourcemark.model.annotator import Annotator
    from sourcemark.readers import read_inputs
    from sourcemark.scoring.summary import article_summary

    model, _ = trained
    out = tmp_path / "pred.jsonl"
    _score(model, inputs, out, "--runtime", "torch")  # chunks of 2, 4, ...: several run ahead
    expected = {}
    for doc in Annotator.load(model).annotate(d for d in read_inputs([str(inputs)]) if isinstance(d, Document)):
        doc.meta["summary"] = article_summary(doc)
        expected[doc.doc_id] = dumps_document(doc)
    written = {json.loads(line)["doc_id"]: line for line in out.read_text(encoding="utf-8").splitlines()}
    assert written == expected
