"""The document model and its JSONL form round-trip without losing fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sourcemark.documents import Document, FormatError
from sourcemark.jsonl import atomic_output, iter_jsonl, read_documents, write_documents


def test_gold_round_trips_exactly(real_dev_path: Path, tmp_path: Path) -> None:
    docs = list(read_documents(real_dev_path))
    assert len(docs) == 3
    out = tmp_path / "copy.jsonl"
    assert write_documents(out, docs) == 3
    original = [json.loads(line) for line in real_dev_path.read_text(encoding="utf-8").splitlines()]
    copied = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert copied == original


def test_unknown_fields_are_kept() -> None:
    raw = {
        "doc_id": "d", "text": "abc def", "meta": {"x": 1}, "model_version": "v1", "custom": True,
        "passages": [{"start": 0, "end": 3, "label": "claim", "section": "body", "score": 0.5,
                      "probs": {"claim": 0.5}, "sources": [{"start": 0, "end": 1, "type": "unnamed",
                                                             "registry_id": "r"}]}],
    }
    doc = Document.from_dict(raw)
    assert doc.passages[0].section == "body"
    assert doc.to_dict() == raw


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"text": "x"}, "doc_id"),
        ({"doc_id": "a"}, "text"),
        ({"doc_id": "a", "text": "x", "passages": [{"start": "0", "end": 1}]}, "start"),
        ({"doc_id": "a", "text": "x", "passages": {}}, "passages"),
    ],
)
def test_bad_shapes_raise_format_error(raw: dict, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        Document.from_dict(raw)


def test_read_documents_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"doc_id": "a", "text": "x"}\n{not json}\n', encoding="utf-8")
    with pytest.raises(FormatError, match=r"bad.jsonl:2: invalid JSON"):
        list(read_documents(path))


def test_iter_jsonl_streams_and_reports_bad_bytes(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"a": 1}\n\n\xff\xfe\n[1, 2]\n')
    records = list(iter_jsonl(path))
    assert [r.line for r in records] == [1, 3, 4]
    assert records[0].value == {"a": 1}
    assert "not UTF-8" in (records[1].error or "")
    assert records[2].value == [1, 2]


def test_atomic_output_keeps_old_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_output(path) as handle:
            handle.write("partial")
            raise RuntimeError("crash")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
