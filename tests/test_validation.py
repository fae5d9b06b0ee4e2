"""``sourcemark validate`` finds each kind of problem and names file, line and doc_id."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sourcemark.cli import app
from sourcemark.validation import ERROR, WARNING, validate_file

runner = CliRunner()


def _write(path: Path, records: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n",
                    encoding="utf-8")
    return path


def _doc(passages: list, text: str = "Alpha said this. Beta is here.", doc_id: str = "d1") -> dict:
    return {"doc_id": doc_id, "text": text, "passages": passages}


def test_gold_is_valid(real_dev_path: Path) -> None:
    assert [p for p in validate_file(real_dev_path) if p.level == ERROR] == []


def test_each_problem_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.jsonl", [
        "{broken",
        ["not", "an", "object"],
        _doc([{"start": 0, "end": 16, "label": "claimz", "sources": []}], doc_id="badlabel"),
        _doc([{"start": 0, "end": 99, "label": "claim", "sources": []}], doc_id="range"),
        _doc([{"start": 17, "end": 30, "label": "claim", "sources": []},
              {"start": 0, "end": 16, "label": "claim", "sources": []}], doc_id="order"),
        _doc([{"start": 0, "end": 16, "label": "attributed_report",
               "sources": [{"start": 17, "end": 21, "type": "unnamed"}]}], doc_id="outside"),
        _doc([{"start": 0, "end": 16, "label": "attributed_report",
               "sources": [{"start": 0, "end": 5, "type": "blog"}]}], doc_id="badtype"),
        _doc([{"start": 0, "end": 16, "label": "attributed_report", "sources": []}], doc_id="nosource"),
        _doc([], doc_id="nosource"),
    ])
    problems = list(validate_file(path))
    text = "\n".join(str(p) for p in problems)
    assert f"{path}:1: ?: invalid JSON" in text
    assert f"{path}:2: ?: expected a JSON object, got list" in text
    assert f"{path}:3: badlabel: passage 0: unknown role 'claimz'" in text
    assert f"{path}:4: range: passage 0: offsets [0, 99) out of range [0, 30]" in text
    assert f"{path}:5: order: passage 1: starts at 0, before the previous passage ends (30)" in text
    assert f"{path}:6: outside: passage 0 source 0: offsets [17, 21) not inside its passage" in text
    assert f"{path}:7: badtype: passage 0 source 0: unknown source type 'blog'" in text
    assert f"{path}:8: nosource: warning: passage 0: attributed_report without a source mention" in text
    assert f"{path}:9: nosource: duplicate doc_id in this file" in text
    warnings = [p for p in problems if p.level == WARNING]
    assert len(warnings) == 1


def test_cli_exit_codes(tmp_path: Path, real_dev_path: Path) -> None:
    good = runner.invoke(app, ["validate", str(real_dev_path)])
    assert good.exit_code == 0, good.output
    bad = _write(tmp_path / "bad.jsonl", [_doc([{"start": 0, "end": 3, "label": "nope", "sources": []}])])
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "bad.jsonl:1: d1: passage 0: unknown role 'nope'" in result.output


def test_unlabelled_passages_need_the_flag(tmp_path: Path) -> None:
    path = _write(tmp_path / "seg.jsonl", [_doc([{"start": 0, "end": 16, "sources": []}])])
    assert any("missing 'label'" in str(p) for p in validate_file(path))
    assert list(validate_file(path, require_label=False)) == []


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert "no documents" in str(next(iter(validate_file(empty))))
    assert "cannot read file" in str(next(iter(validate_file(tmp_path / "missing.jsonl"))))


def test_train_refuses_bad_training_data_before_training(tmp_path: Path) -> None:
    good = _doc([{"start": 0, "end": 16, "label": "claim"}])
    cases = {
        "label": ([{"start": 0, "end": 16, "label": "fact"}], "unknown role 'fact'"),
        "offsets": ([{"start": 0, "end": 99, "label": "claim"}], "out of range"),
    }
    for name, (passages, expected) in cases.items():
        data = _write(tmp_path / f"{name}.jsonl", [good, _doc(passages, doc_id="bad")])
        out = tmp_path / f"model-{name}"
        result = runner.invoke(app, ["train", "--data", str(data), "--out", str(out), "--quiet"])
        assert result.exit_code == 1
        assert f"{data}:2: bad: passage 0: " in result.output and expected in result.output
        assert not out.exists()


def test_train_refuses_settings_out_of_range_before_training(tmp_path: Path) -> None:
    for option, value in (("--batch-size", "0"), ("--max-steps", "-1"), ("--plain-corpus-share", "0")):
        out = tmp_path / f"model{option}"
        result = runner.invoke(app, ["train", "--out", str(out), option, value, "--quiet"])
        assert result.exit_code == 2, (option, result.output)
        assert option in result.output
        assert not out.exists()
