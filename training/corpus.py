"""The bundled training corpus and its fixed document-level dev split.

The corpus is authored as ``.sm`` files (see :mod:`sourcemark.training.markup`)
and compiled on load, so the text a person reviews is the text trained on.
``dev_split.txt`` lists the documents held out as the corpus dev set; they are
never trained on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from sourcemark.documents import Document
from sourcemark.jsonl import read_documents
from sourcemark.validation import read_checked_documents
from sourcemark.training.markup import compile_files

DATA_DIR = Path(__file__).with_name("data")
CORPUS_DIR = DATA_DIR / "corpus"
DEV_SPLIT_FILE = DATA_DIR / "dev_split.txt"
REAL_DEV_FILE = DATA_DIR / "real_dev.jsonl"
SAMPLES_DIR = DATA_DIR / "samples"

#: ``--data``/``--dev`` value meaning the bundled corpus (train part / dev part).
BUNDLED = "bundled"


def corpus_documents(directory: Path = CORPUS_DIR) -> list[Document]:
    """Every corpus article, compiled from its ``.sm`` source, sorted by doc_id."""
    docs = compile_files(directory.glob("*.sm"))
    return sorted(docs, key=lambda d: d.doc_id)


def dev_ids(path: Path = DEV_SPLIT_FILE) -> set[str]:
    """The doc_ids of the corpus dev split (one per line, ``#`` comments allowed)."""
    if not path.is_file():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line}


def split_corpus() -> tuple[list[Document], list[Document]]:
    """(train, dev) documents of the bundled corpus."""
    held_out = dev_ids()
    docs = corpus_documents()
    return [d for d in docs if d.doc_id not in held_out], [d for d in docs if d.doc_id in held_out]


def bundled_dev_sets() -> dict[str, list[Document]]:
    """The two dev sets every measurement uses: the corpus dev split and the real-article gold."""
    return {"corpus_dev": split_corpus()[1], "real_dev": list(read_documents(REAL_DEV_FILE))}


def load_documents(sources: Iterable[str], part: str) -> list[Document]:
    """Documents from JSONL files, with ``bundled`` standing for the corpus ``part`` (train/dev)."""
    docs: list[Document] = []
    for source in sources:
        if source == BUNDLED:
            train, dev = split_corpus()
            docs += train if part == "train" else dev
        else:
            docs += read_checked_documents(source)
    return docs
