"""The document model of FORMATS.md: Document, Passage and SourceMention.

Dataclasses rather than dicts so every stage speaks one typed vocabulary.
Fields a stage does not know (a passage's ``section``, a prediction's
``registry_id``) are kept in ``extra`` and written back unchanged, because
FORMATS.md lets any writer add fields and asks readers to keep them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

_MENTION_KEYS = ("start", "end", "type", "score")
_PASSAGE_KEYS = ("start", "end", "label", "sources", "score", "probs")
_DOCUMENT_KEYS = ("doc_id", "text", "meta", "passages", "model_version")


class FormatError(ValueError):
    """A JSON object does not have the shape FORMATS.md requires."""


def _require_int(obj: Mapping[str, Any], key: str, where: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormatError(f"{where}: '{key}' must be an integer, got {value!r}")
    return value


def _extra(obj: Mapping[str, Any], known: Iterable[str]) -> dict[str, Any]:
    known_set = set(known)
    return {k: v for k, v in obj.items() if k not in known_set}


@dataclass
class SourceMention:
    """A span naming the source of reported content, with one source type."""

    start: int
    end: int
    type: str
    score: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any], where: str = "source") -> "SourceMention":
        if not isinstance(obj, Mapping):
            raise FormatError(f"{where}: expected an object, got {type(obj).__name__}")
        kind = obj.get("type")
        if not isinstance(kind, str):
            raise FormatError(f"{where}: 'type' must be a string, got {kind!r}")
        return cls(
            start=_require_int(obj, "start", where),
            end=_require_int(obj, "end", where),
            type=kind,
            score=obj.get("score"),
            extra=_extra(obj, _MENTION_KEYS),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end, "type": self.type}
        if self.score is not None:
            out["score"] = self.score
        out.update(self.extra)
        return out


@dataclass
class Passage:
    """A contiguous span of the document text with one role (or none yet)."""

    start: int
    end: int
    label: str | None = None
    sources: list[SourceMention] = field(default_factory=list)
    score: float | None = None
    probs: dict[str, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def section(self) -> str | None:
        """The segmenter's section flag (``body`` or ``comments``), if set."""
        return self.extra.get("section")

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any], where: str = "passage") -> "Passage":
        if not isinstance(obj, Mapping):
            raise FormatError(f"{where}: expected an object, got {type(obj).__name__}")
        label = obj.get("label")
        if label is not None and not isinstance(label, str):
            raise FormatError(f"{where}: 'label' must be a string, got {label!r}")
        raw_sources = obj.get("sources", [])
        if not isinstance(raw_sources, list):
            raise FormatError(f"{where}: 'sources' must be a list")
        probs = obj.get("probs")
        if probs is not None and not isinstance(probs, Mapping):
            raise FormatError(f"{where}: 'probs' must be an object")
        return cls(
            start=_require_int(obj, "start", where),
            end=_require_int(obj, "end", where),
            label=label,
            sources=[
                SourceMention.from_dict(s, f"{where} source {i}") for i, s in enumerate(raw_sources)
            ],
            score=obj.get("score"),
            probs=dict(probs) if probs is not None else None,
            extra=_extra(obj, _PASSAGE_KEYS),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end}
        if self.label is not None:
            out["label"] = self.label
        if self.score is not None:
            out["score"] = self.score
        if self.probs is not None:
            out["probs"] = self.probs
        out["sources"] = [s.to_dict() for s in self.sources]
        out.update(self.extra)
        return out


@dataclass
class Document:
    """An article: its exact text, free-form meta and its passages."""

    doc_id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    passages: list[Passage] = field(default_factory=list)
    model_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> "Document":
        if not isinstance(obj, Mapping):
            raise FormatError(f"expected a JSON object, got {type(obj).__name__}")
        doc_id = obj.get("doc_id")
        if not isinstance(doc_id, str) or not doc_id:
            raise FormatError(f"'doc_id' must be a non-empty string, got {doc_id!r}")
        text = obj.get("text")
        if not isinstance(text, str):
            raise FormatError(f"'text' must be a string, got {type(text).__name__}")
        meta = obj.get("meta") or {}
        if not isinstance(meta, Mapping):
            raise FormatError("'meta' must be an object")
        raw_passages = obj.get("passages", [])
        if not isinstance(raw_passages, list):
            raise FormatError("'passages' must be a list")
        version = obj.get("model_version")
        return cls(
            doc_id=doc_id,
            text=text,
            meta=dict(meta),
            passages=[Passage.from_dict(p, f"passage {i}") for i, p in enumerate(raw_passages)],
            model_version=str(version) if version is not None else None,
            extra=_extra(obj, _DOCUMENT_KEYS),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"doc_id": self.doc_id, "text": self.text}
        if self.model_version is not None:
            out["model_version"] = self.model_version
        out["meta"] = self.meta
        out["passages"] = [p.to_dict() for p in self.passages]
        out.update(self.extra)
        return out

    def passage_text(self, passage: Passage) -> str:
        """The exact text a passage covers."""
        return self.text[passage.start : passage.end]
