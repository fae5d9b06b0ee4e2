"""The bundled corpus compiles, validates, meets its coverage floors and keeps its dev split apart."""

from __future__ import annotations

import subprocess
import sys

from sourcemark.bundled import corpus_documents, dev_ids, split_corpus
from sourcemark.validation import ERROR, WARNING, validate_record


def test_every_corpus_document_validates_without_warnings() -> None:
    docs = corpus_documents()
    assert docs
    for doc in docs:
        problems = list(validate_record(doc.to_dict(), doc.meta["source_file"]))
        assert [p for p in problems if p.level in (ERROR, WARNING)] == [], problems[:3]


def test_dev_split_is_held_out_and_about_fifteen_percent() -> None:
    train, dev = split_corpus()
    assert dev_ids() == {d.doc_id for d in dev}
    assert not {d.doc_id for d in train} & {d.doc_id for d in dev}
    share = len(dev) / (len(train) + len(dev))
    assert 0.10 <= share <= 0.20, share


def test_coverage_floors_script() -> None:
    """The statistics script exits 0 only when every coverage floor of the corpus issue is met."""
    result = subprocess.run([sys.executable, "-m", "sourcemark.training.corpus_stats"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Passages per role" in result.stdout
