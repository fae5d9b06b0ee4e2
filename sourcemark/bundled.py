"""The data shipped with the project: the authored corpus, the labelled real articles, the seeds, the dev splits.

Every stage reads the bundled data (training trains on it, scoring checks an
int8 graph on its dev sets, benchmarks measure on it), so its paths and
splits are defined once here, in the core package every stage may import.
The files live in ``training/data`` (installed as package data of
``sourcemark.training``); the folder is located without importing that stage.

* the corpus: original articles authored as ``.sm`` files (see
  :mod:`sourcemark.markup`), compiled on load so the text a person reviews is
  the text trained on; ``dev_split.txt`` holds its dev documents out;
* the real articles: FA-KES articles labelled per the guide on their raw
  text (``real/fakes_labelled.jsonl``); ``real/dev_split.txt`` holds its dev
  documents out, fixed before labelling;
* the seeds: the user's three web-scraped articles and their gold.

Dev documents are never trained on.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Iterable

from sourcemark.documents import Document
from sourcemark.jsonl import read_documents
from sourcemark.markup import compile_files
from sourcemark.validation import read_checked_documents


def _training_data_dir() -> Path:
    """``training/data`` wherever the training stage is installed (editable or wheel)."""
    spec = find_spec("sourcemark.training")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the sourcemark.training package (which holds the bundled data) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


DATA_DIR = _training_data_dir()
CORPUS_DIR = DATA_DIR / "corpus"
DEV_SPLIT_FILE = DATA_DIR / "dev_split.txt"
SEEDS_GOLD_FILE = DATA_DIR / "real_dev.jsonl"
SAMPLES_DIR = DATA_DIR / "samples"
REAL_DIR = DATA_DIR / "real"
REAL_ARTICLES_FILE = REAL_DIR / "fakes_labelled.jsonl"
REAL_DEV_SPLIT_FILE = REAL_DIR / "dev_split.txt"

#: ``--data``/``--dev`` value meaning the bundled training data (train part) or its dev split (dev part).
BUNDLED = "bundled"
#: ``meta.source`` of the bundled real articles (the build tool writes it; the datasheet cites the dataset).
REAL_ARTICLES_SOURCE = "FA-KES"


def is_bundled_real_article(doc: Document) -> bool:
    """A labelled real article shipped with the project, as opposed to a corpus or user document."""
    return doc.meta.get("source") == REAL_ARTICLES_SOURCE


def _ids(path: Path) -> set[str]:
    """doc_ids listed one per line, ``#`` comments allowed; none when the file is absent."""
    if not path.is_file():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line}


def corpus_documents(directory: Path = CORPUS_DIR) -> list[Document]:
    """Every corpus article, compiled from its ``.sm`` source, sorted by doc_id."""
    docs = compile_files(directory.glob("*.sm"))
    return sorted(docs, key=lambda d: d.doc_id)


def dev_ids(path: Path = DEV_SPLIT_FILE) -> set[str]:
    """The doc_ids of the corpus dev split."""
    return _ids(path)


def real_dev_ids(path: Path = REAL_DEV_SPLIT_FILE) -> set[str]:
    """The doc_ids of the real-article dev split."""
    return _ids(path)


def _split(docs: list[Document], held_out: set[str]) -> tuple[list[Document], list[Document]]:
    return [d for d in docs if d.doc_id not in held_out], [d for d in docs if d.doc_id in held_out]


def split_corpus() -> tuple[list[Document], list[Document]]:
    """(train, dev) documents of the authored corpus."""
    return _split(corpus_documents(), dev_ids())


def split_real_articles(path: Path = REAL_ARTICLES_FILE) -> tuple[list[Document], list[Document]]:
    """(train, dev) labelled real articles; none when the file is not there."""
    if not path.is_file():
        return [], []
    return _split(list(read_documents(path)), real_dev_ids())


def seed_documents() -> list[Document]:
    """The user's three seed articles with their gold annotations."""
    return list(read_documents(SEEDS_GOLD_FILE))


def bundled_training_documents() -> tuple[list[Document], list[Document]]:
    """(train, dev) of ``--data bundled`` / ``--dev bundled``: corpus and real articles, dev = corpus dev.

    Epochs are chosen on the corpus dev split only, so the real dev split
    stays a measurement that nothing was selected on.
    """
    corpus_train, corpus_dev = split_corpus()
    real_train, _ = split_real_articles()
    return corpus_train + real_train, corpus_dev


def bundled_dev_sets() -> dict[str, list[Document]]:
    """The dev sets every measurement uses: the corpus dev split, and real text (FA-KES dev + the seeds)."""
    return {"corpus_dev": split_corpus()[1], "real_dev": split_real_articles()[1] + seed_documents()}


def load_documents(sources: Iterable[str], part: str) -> list[Document]:
    """Documents from JSONL files, with ``bundled`` standing for the bundled ``part`` (train/dev)."""
    docs: list[Document] = []
    for source in sources:
        if source == BUNDLED:
            train, dev = bundled_training_documents()
            docs += train if part == "train" else dev
        else:
            docs += read_checked_documents(source)
    return docs
