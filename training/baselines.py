"""Baselines in the prediction format, trained on the same data, for comparison.

* ``CueWordBaseline``: the guide's decision order as hand rules over cue words.
* ``TfidfBaseline``: a scikit-learn ``Pipeline`` of TF-IDF and logistic regression.

Both find source mentions with the source registry only (known outlets and
actors plus a few unnamed-source cues): that is what a model-free system
can do, and it shows what the tagger adds.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, Iterator, Sequence

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from sourcemark.bundled import load_documents
from sourcemark.documents import Document, Passage, SourceMention
from sourcemark.jsonl import atomic_output, dumps_document
from sourcemark.labels import ROLES
from sourcemark.model.registry import SourceRegistry, default_registry
from sourcemark.readers import ReadError, read_inputs
from sourcemark.segmentation import is_comment_marker, mark_sections, segment

_ATTRIBUTION = re.compile(
    r"\b(said|says|told|claim(ed|s)?|report(ed|s)?|according to|announc(ed|es)|stat(ed|es)|"
    r"posted|published|tweeted|wrote|quoted|estimat(ed|es)|warn(ed|s)|declar(ed|es)|"
    r"accus(ed|es)|reportedly|confirm(ed|s)|denied|insist(ed|s)|in a statement)\b",
    re.I,
)
_ANALYSIS = re.compile(
    r"\b(likely|unlikely|appears?|seems?|suggests?|probably|perhaps|may|might|could|should|must|"
    r"clearly|arguably|in practice|too early|culmination|strategy|signal|means that|indicates?|"
    r"in other words|I think|we believe)\b",
    re.I,
)
_UNNAMED = re.compile(r"\b(reportedly|sources said|reports suggest(ed)?|it is believed|is said to)\b", re.I)


def registry_mentions(text: str, passage: Passage, registry: SourceRegistry) -> list[SourceMention]:
    """Source mentions a registry and a few unnamed-source cues can find in a passage."""
    piece = text[passage.start : passage.end]
    found = [SourceMention(passage.start + m.start, passage.start + m.end, m.entry.type, 1.0,
                           {"registry_id": m.entry.id}) for m in registry.find(piece)]
    for m in _UNNAMED.finditer(piece):
        if not any(s.start < passage.start + m.end() and s.end > passage.start + m.start() for s in found):
            found.append(SourceMention(passage.start + m.start(), passage.start + m.end(), "unnamed", 1.0))
    return sorted(found, key=lambda s: s.start)


def _prepare(doc: Document) -> Document:
    working = Document(doc.doc_id, doc.text, dict(doc.meta),
                       [Passage(p.start, p.end, extra=dict(p.extra)) for p in doc.passages])
    if not working.passages:
        segment(working)
    return mark_sections(working)


def _one_hot(label: str) -> dict[str, float]:
    return {r: (1.0 if r == label else 0.0) for r in ROLES}


class CueWordBaseline:
    """Hand rules in the guide's decision order; needs no training (``fit`` is a no-op)."""

    model_version = "baseline-cue-words"
    summary = "cue words"

    def __init__(self, registry: SourceRegistry | None = None) -> None:
        self.registry = registry or default_registry()

    def fit(self, docs: Sequence[Document]) -> "CueWordBaseline":
        return self

    def role(self, text: str, section: str | None, mentions: list[SourceMention]) -> str:
        stripped = text.strip()
        if section == "comments":
            return "other" if is_comment_marker(stripped) else "reader_comment"
        if len(stripped.split()) <= 6 and not stripped.endswith((".", "!", "?", "”", '"')):
            return "other"
        if _ATTRIBUTION.search(stripped) or (mentions and _ATTRIBUTION.search(stripped)):
            return "attributed_report"
        if _ANALYSIS.search(stripped):
            return "analysis"
        return "claim"

    def predict(self, docs: Iterable[Document]) -> Iterator[Document]:
        for doc in docs:
            work = _prepare(doc)
            for p in work.passages:
                p.sources = registry_mentions(work.text, p, self.registry)
                p.label = self.role(work.text[p.start : p.end], p.section, p.sources)
                p.probs, p.score = _one_hot(p.label), 1.0
            work.model_version = self.model_version
            yield work


class TfidfBaseline:
    """TF-IDF word and character n-grams with logistic regression, one passage at a time."""

    model_version = "baseline-tfidf-logreg"
    summary = "TF-IDF + logistic regression"

    def __init__(self, registry: SourceRegistry | None = None, seed: int = 0) -> None:
        self.registry = registry or default_registry()
        self.pipeline = Pipeline([
            ("tfidf", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ("logreg", LogisticRegression(max_iter=2000, class_weight="balanced", C=4.0, random_state=seed)),
        ])

    @staticmethod
    def _text(doc: Document, passage: Passage) -> str:
        marker = "__comments__" if passage.section == "comments" else "__body__"
        return f"{marker} {doc.text[passage.start : passage.end]}"

    def fit(self, docs: Sequence[Document]) -> "TfidfBaseline":
        texts, labels = [], []
        for doc in map(mark_sections, docs):
            for p in doc.passages:
                if p.label in ROLES:
                    texts.append(self._text(doc, p))
                    labels.append(p.label)
        self.pipeline.fit(texts, labels)
        return self

    def predict(self, docs: Iterable[Document]) -> Iterator[Document]:
        classes = list(self.pipeline.classes_)
        for doc in docs:
            work = _prepare(doc)
            if work.passages:
                probs = self.pipeline.predict_proba([self._text(work, p) for p in work.passages])
                for p, row in zip(work.passages, probs):
                    p.probs = {r: round(float(row[classes.index(r)]), 4) if r in classes else 0.0 for r in ROLES}
                    p.label = max(p.probs, key=p.probs.get)  # type: ignore[arg-type]
                    p.score = p.probs[p.label]
                    p.sources = registry_mentions(work.text, p, self.registry)
            work.model_version = self.model_version
            yield work


#: The baselines by the name ``sourcemark baseline --kind`` takes: the one list of their names.
BASELINES: dict[str, type[CueWordBaseline | TfidfBaseline]] = {"rules": CueWordBaseline, "tfidf": TfidfBaseline}
DEFAULT_BASELINE = "tfidf"


def write_baseline_predictions(kind: str, inputs: Sequence[str], out: str, data: Sequence[str],
                               on_error: Callable[[ReadError], None]) -> None:
    """Fit the ``kind`` baseline on ``data`` (train part), predict ``inputs``, write them to ``out`` (JSONL).

    An input that cannot be read goes to ``on_error`` and is skipped.
    """
    system = BASELINES[kind]().fit(load_documents(data, "train"))
    docs = []
    for result in read_inputs(inputs):
        if isinstance(result, ReadError):
            on_error(result)
        else:
            docs.append(result)
    with atomic_output(out) as handle:
        for doc in system.predict(docs):
            handle.write(dumps_document(doc) + "\n")
