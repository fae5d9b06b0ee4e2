"""The real-text check set: its labels follow the guide and join their FA-KES texts exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sourcemark.labels import ROLES, SOURCE_TYPES
from sourcemark.training.real_check import REAL_CHECK_LABELS, REALTEXT, RealCheckError, real_check_documents
from sourcemark.validation import ERROR, validate_record

needs_realtext = pytest.mark.skipif(not REALTEXT.is_file(), reason="../shared/realtext is not beside the project")


def _records() -> list[dict]:
    return [json.loads(line) for line in REAL_CHECK_LABELS.read_text(encoding="utf-8").splitlines()]


def test_labels_hold_offsets_only_in_order_and_guide_ids() -> None:
    records = _records()
    assert len(records) == 14
    for record in records:
        assert "text" not in record  # the FA-KES text is never committed
        end = 0
        for passage in record["passages"]:
            assert end <= passage["start"] < passage["end"] <= record["text_chars"], record["doc_id"]
            assert passage["label"] in ROLES
            assert all(passage["start"] <= s["start"] < s["end"] <= passage["end"] and s["type"] in SOURCE_TYPES
                       for s in passage["sources"])
            end = passage["end"]


@needs_realtext
def test_joined_documents_are_valid_annotated_documents() -> None:
    docs = real_check_documents()
    assert [d.doc_id for d in docs] == [r["doc_id"] for r in _records()]
    for doc in docs:
        errors = [p for p in validate_record(doc.to_dict(), doc.doc_id) if p.level == ERROR]
        assert not errors, errors


@needs_realtext
def test_a_changed_text_is_refused(tmp_path: Path) -> None:
    first = _records()[0]["doc_id"]
    lines = REALTEXT.read_text(encoding="utf-8").splitlines()
    changed = [json.dumps({**json.loads(line), "text": "changed"}) if f'"{first}"' in line else line for line in lines]
    realtext = tmp_path / "fakes.jsonl"
    realtext.write_text("\n".join(changed) + "\n", encoding="utf-8")
    with pytest.raises(RealCheckError, match=f"{first} changed since it was labelled"):
        real_check_documents(realtext)
