"""Reruns of ``sourcemark score`` never drop a document: ids are unique and stable, changed texts are
rescored, damaged or misused outputs are refused, and the errors file does not grow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sourcemark.cli import app
from sourcemark.jsonl import read_documents
from sourcemark.scoring.batch import load_output

pytestmark = pytest.mark.slow
runner = CliRunner()


def _score(model: Path, out: Path, *inputs: str, stdin: str | None = None, extra: tuple[str, ...] = ()):
    # torch: no ONNX graph to export, the cheapest runtime for a few tiny documents
    return runner.invoke(app, ["score", *inputs, "--model", str(model), "--out", str(out), "--quiet",
                               "--runtime", "torch", *extra], input=stdin)


def _texts(out: Path) -> dict[str, str]:
    docs = list(read_documents(out))
    assert len({d.doc_id for d in docs}) == len(docs), "one line per document"
    return {d.doc_id: d.text for d in docs}


def test_duplicate_ids_in_a_jsonl_file_are_all_scored(trained, tmp_path: Path) -> None:
    model, dev = trained
    path = tmp_path / "docs.jsonl"
    ids = ["dup-2", "x", "dup", "dup"]
    path.write_text("".join(json.dumps({"doc_id": i, "text": d.text}) + "\n" for i, d in zip(ids, dev)),
                    encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    result = _score(model, out, str(path))
    assert result.exit_code == 0, result.output
    assert "scored 4, skipped 0" in result.output
    assert sorted(_texts(out).values()) == sorted(d.text for d in dev[:4])
    again = _score(model, out, str(path))
    assert again.exit_code == 0 and "scored 0, skipped 4" in again.output, again.output


def test_a_new_file_beside_an_old_one_of_the_same_name_is_scored(trained, tmp_path: Path) -> None:
    model, dev = trained
    folder, out = tmp_path / "in", tmp_path / "pred.jsonl"
    (folder / "2018-02-25").mkdir(parents=True)
    (folder / "2018-02-25" / "index.txt").write_text(dev[0].text, encoding="utf-8")
    assert _score(model, out, str(folder)).exit_code == 0
    (folder / "2018-02-24").mkdir()
    (folder / "2018-02-24" / "index.txt").write_text(dev[1].text, encoding="utf-8")
    result = _score(model, out, str(folder))
    assert result.exit_code == 0, result.output
    assert "scored 1, skipped 1" in result.output
    assert _texts(out) == {"2018-02-24/index": dev[1].text, "2018-02-25/index": dev[0].text}


def test_a_changed_text_under_a_done_id_is_rescored_with_a_warning(trained, tmp_path: Path) -> None:
    model, dev = trained
    out = tmp_path / "pred.jsonl"
    assert _score(model, out, "-", stdin=dev[0].text).exit_code == 0
    result = _score(model, out, "-", stdin=dev[1].text)
    assert result.exit_code == 0, result.output
    assert "scored 1, skipped 0" in result.output
    assert "warning:" in result.stderr and "stdin" in result.stderr and "changed" in result.stderr
    assert _texts(out) == {"stdin": dev[1].text}, "the new prediction replaces the old line"
    again = _score(model, out, "-", stdin=dev[1].text)
    assert "scored 0, skipped 1" in again.output and "warning" not in again.stderr


def test_resume_takes_the_last_line_of_an_id(tmp_path: Path) -> None:
    """A run stopped between appending a rescored document and rewriting the file leaves two lines: the last counts."""
    from sourcemark.readers import text_sha1

    out = tmp_path / "pred.jsonl"
    lines = [{"doc_id": "a", "text": text, "passages": []} for text in ("Old.", "New.")]
    out.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert load_output(out)[0] == {"a": text_sha1("New.")}


def test_out_equal_to_an_input_is_refused_before_anything(trained, tmp_path: Path) -> None:
    model, dev = trained
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps({"doc_id": "a", "text": dev[0].text}) + "\n", encoding="utf-8")
    before = path.read_bytes()
    result = _score(model, path, str(path))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and "input" in result.stderr
    assert path.read_bytes() == before
    # an output inside an input folder would be read back as input on the next run
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(dev[0].text, encoding="utf-8")
    inside = _score(model, folder / "pred.jsonl", str(folder))
    assert inside.exit_code == 1 and inside.stderr.startswith("error: ")
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt"]


def test_a_damaged_output_is_refused_by_file_and_line(trained, tmp_path: Path) -> None:
    model, dev = trained
    folder, out = tmp_path / "in", tmp_path / "pred.jsonl"
    folder.mkdir()
    for doc in dev[:3]:
        (folder / f"{doc.doc_id}.txt").write_text(doc.text, encoding="utf-8")
    assert _score(model, out, str(folder)).exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)

    torn = lines[0] + lines[1][: len(lines[1]) // 2] + "\n" + lines[2]
    out.write_text(torn, encoding="utf-8")
    result = _score(model, out, str(folder))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr.startswith(f"error: {out}:2: ") and result.stderr.count("\n") == 1, result.stderr
    assert out.read_text(encoding="utf-8") == torn, "nothing appended"

    record = json.loads(lines[0])
    del record["passages"]
    no_passages = json.dumps(record) + "\n" + "".join(lines[1:])
    out.write_text(no_passages, encoding="utf-8")
    result = _score(model, out, str(folder))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr.startswith(f"error: {out}:1: ") and "passages" in result.stderr, result.stderr
    assert out.read_text(encoding="utf-8") == no_passages


def test_the_errors_file_does_not_grow_on_reruns(trained, tmp_path: Path) -> None:
    model, dev = trained
    folder, out, errors = tmp_path / "in", tmp_path / "pred.jsonl", tmp_path / "errors.jsonl"
    folder.mkdir()
    (folder / "good.txt").write_text(dev[0].text, encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    for _ in range(2):
        result = _score(model, out, str(folder), extra=("--errors", str(errors)))
        assert result.exit_code == 2, result.output
    failures = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    assert [(Path(f["where"]).name, f["error"]) for f in failures] == [("empty.txt", "empty file")]
