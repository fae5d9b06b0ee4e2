"""The real-text check set: guide labels for FA-KES articles, stored as offsets, joined with their text.

The FA-KES texts (CC BY 4.0) are not part of the project; ``../shared/realtext``
holds them where the project is developed. The labels file keeps passage and
mention offsets and a hash of each text, so the check set can be rebuilt
exactly, and a changed source text is refused instead of misaligned.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sourcemark.documents import Document
from sourcemark.training.corpus import DATA_DIR

REAL_CHECK_LABELS = DATA_DIR / "real_check" / "fakes_labels.jsonl"
REALTEXT = DATA_DIR.parents[2] / "shared" / "realtext" / "fakes-unlabelled.jsonl"


class RealCheckError(ValueError):
    """The labels and the texts do not join; the message names the file, line and article."""


def text_hash(text: str) -> str:
    """What the labels file records of each text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _texts(realtext: Path) -> dict[str, str]:
    texts = {}
    with open(realtext, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                record = json.loads(line)
                texts[record["doc_id"]] = record["text"]
            except (ValueError, KeyError, TypeError) as exc:
                raise RealCheckError(f"{realtext}:{number}: not a FA-KES article record ({exc})") from None
    return texts


def real_check_documents(realtext: Path = REALTEXT, labels: Path = REAL_CHECK_LABELS) -> list[Document]:
    """Gold documents: each label record with its article text, which must hash as it did when labelled."""
    texts = _texts(realtext)
    docs = []
    with open(labels, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            record = json.loads(line)
            text = texts.get(record["doc_id"])
            if text is None:
                raise RealCheckError(f"{labels}:{number}: {record['doc_id']} is not in {realtext}")
            if text_hash(text) != record["text_sha1"]:
                raise RealCheckError(f"{labels}:{number}: the text of {record['doc_id']} changed since it was labelled")
            docs.append(Document.from_dict({"doc_id": record["doc_id"], "text": text, "meta": {},
                                            "passages": record["passages"]}))
    return docs
