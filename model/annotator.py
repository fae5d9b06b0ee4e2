"""The Python API every other stage uses: ``Annotator.load(dir).annotate(documents)``.

A saved model directory is self-describing: encoder config and weights
(safetensors), tokenizer, ``sourcemark.json`` (label maps, feature names,
window settings, temperature, registry version, model version) and a model
card. Loading checks all of it and says what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from sourcemark.documents import Document, Passage, SourceMention
from sourcemark.labels import ROLES, SOURCE_TYPES
from sourcemark.model.coreference import harmonise_types
from sourcemark.model.decoding import decode_mentions, recall_known_sources
from sourcemark.model.encoding import (CONTEXT, CONTEXT_SEGMENT, ISOLATE_PASSAGES, MAX_LENGTH, TAGS, Window,
                                       build_windows)
from sourcemark.model.features import FEATURE_NAMES
from sourcemark.model.network import SourcemarkNet, collate
from sourcemark.model.mention_rules import tidy_span
from sourcemark.model.registry import SourceRegistry, default_registry
from sourcemark.model.type_cues import stated_type
from sourcemark.segmentation import mark_sections, segment

SETTINGS_FILE = "sourcemark.json"
WEIGHTS_FILE = "model.safetensors"

#: What a ``sourcemark.json`` saved before a setting existed meant by its absence: such models packed
#: passages with context and kept every decoded mention. Loading uses these, never the defaults of new
#: models, so changing a default cannot change what an old model predicts.
SAVED_BEFORE_SETTING: dict[str, Any] = {"isolate_passages": False, "mention_threshold": 0.0, "context_segment": False}


@dataclass
class PreparedDocument(Document):
    """A document as one annotator reads it: passages cut and flagged, and its encoder windows.

    Made by :meth:`Annotator.prepare` with ``windows=True``, ahead of the model
    (a batch job prepares the next chunk in a thread while the encoder runs).
    ``windows_key`` names the tokenizer and window settings they were cut with;
    an annotator with others cuts them again.
    """

    windows: list[Window] = field(default_factory=list)
    windows_key: tuple[Any, ...] = ()


class ModelLoadError(RuntimeError):
    """A model directory is missing files or was made for other labels."""


@dataclass
class ModelSettings:
    """What a saved model needs besides its weights; written as ``sourcemark.json``."""

    model_version: str
    backbone: str
    max_length: int = MAX_LENGTH
    context: int = CONTEXT
    isolate_passages: bool = ISOLATE_PASSAGES
    context_segment: bool = CONTEXT_SEGMENT
    temperature: float = 1.0
    mention_threshold: float = 0.0
    registry_version: str = ""
    roles: list[str] = field(default_factory=lambda: list(ROLES))
    source_types: list[str] = field(default_factory=lambda: list(SOURCE_TYPES))
    tags: list[str] = field(default_factory=lambda: list(TAGS))
    features: list[str] = field(default_factory=lambda: list(FEATURE_NAMES))
    training: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Any, model_version: str) -> "ModelSettings":
        """The settings of a model trained with ``config``, recorded under ``training["config"]``.

        ``config`` is a training configuration (``TrainConfig``) or anything
        with its ``base_model``, ``max_length``, ``context`` and
        ``isolate_passages`` attributes: read by name, so the model stage
        never imports the training stage.
        """
        return cls(model_version=model_version, backbone=str(config.base_model),
                   max_length=config.max_length, context=config.context,
                   isolate_passages=config.isolate_passages,
                   context_segment=bool(getattr(config, "context_segment", CONTEXT_SEGMENT)),
                   training={"config": asdict(config)} if is_dataclass(config) else {})

    @classmethod
    def from_saved(cls, raw: dict[str, Any]) -> "ModelSettings":
        """Settings read from a ``sourcemark.json``; a setting it lacks means what it meant when it was saved."""
        return cls(**{**SAVED_BEFORE_SETTING, **raw})

    def check_labels(self, where: str) -> None:
        """Refuse a model whose label maps differ from this version's label ids."""
        for name, saved, current in (
            ("roles", self.roles, list(ROLES)),
            ("source_types", self.source_types, list(SOURCE_TYPES)),
            ("tags", self.tags, list(TAGS)),
            ("features", self.features, list(FEATURE_NAMES)),
        ):
            if saved != current:
                raise ModelLoadError(
                    f"{where}: its {name} label map {saved} does not match this version's {current}; "
                    "retrain the model with this version of sourcemark"
                )


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file, read in chunks: model weights are too big to read into memory for it."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def output_file_mode() -> int:
    """The mode ``open(path, "w")`` gives a new file: 0666 less the umask, for writers that do not honour it."""
    mask = os.umask(0o022)  # the umask can only be read by setting it
    os.umask(mask)
    return 0o666 & ~mask


def _load_tokenizer(path: Path, vocab_size: int) -> Any:
    """The tokenizer saved with a model, refused when it is missing or cannot be the encoder's."""
    # transformers is slow to import: loaded with a model, not by every command that imports this module
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        raise ModelLoadError(f"{path}: tokenizer files missing or broken ({reason})") from None
    # Without its vocabulary files transformers builds a tokenizer of the special tokens alone, without
    # an error: every word would become [UNK] and the model would score every passage alike.
    names = sorted(set(getattr(tokenizer, "vocab_files_names", {}).values()))
    if names and not any((path / name).is_file() for name in names):
        raise ModelLoadError(f"{path}: no tokenizer files (none of {', '.join(names)}); copy the tokenizer "
                             "saved with the model into the folder")
    # A tokenizer of another model gives token ids that mean other words to this encoder, or none at all.
    if len(tokenizer) != vocab_size:
        raise ModelLoadError(f"{path}: the tokenizer has {len(tokenizer)} tokens but the encoder's vocabulary "
                             f"has {vocab_size} (config.json vocab_size); the tokenizer files are not this model's")
    return tokenizer


def _load_encoder(config: Any) -> torch.nn.Module:
    # transformers is slow to import: loaded with a model, not by every command that imports this module
    from transformers import AutoModel

    return AutoModel.from_config(config)


class Annotator:
    """A trained model with its tokenizer, settings and source registry."""

    def __init__(self, net: SourcemarkNet, tokenizer: Any, settings: ModelSettings,
                 registry: SourceRegistry | None = None) -> None:
        self.net = net.eval()
        self.tokenizer = tokenizer
        self.settings = settings
        self.registry = registry or default_registry()
        # the fast tokenizer's wrapper sets truncation on the shared backend before encoding: one thread at a time
        self._tokenizing = threading.Lock()

    #: The sha256 of the weights file this annotator's weights were loaded from or last saved to (None:
    #: built in memory): what the ONNX graphs cached beside the weights are keyed by.
    weights_sha256: str | None = None

    @property
    def model_version(self) -> str:
        return self.settings.model_version

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> "Annotator":
        """Load a saved model directory, checking every file it needs."""
        path = Path(directory)
        if not path.is_dir():
            raise ModelLoadError(f"{path}: no such model directory")
        for name in (SETTINGS_FILE, WEIGHTS_FILE, "config.json"):
            if not (path / name).is_file():
                raise ModelLoadError(f"{path}: not a sourcemark model directory (missing {name})")
        try:
            raw = json.loads((path / SETTINGS_FILE).read_text(encoding="utf-8"))
            settings = ModelSettings.from_saved(raw)
        except (json.JSONDecodeError, TypeError) as exc:
            raise ModelLoadError(f"{path / SETTINGS_FILE}: unreadable settings ({exc})") from None
        settings.check_labels(str(path / SETTINGS_FILE))
        # transformers is slow to import: loaded with a model, not by every command that imports this module
        from transformers import AutoConfig

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            config = AutoConfig.from_pretrained(str(path))
        except (OSError, ValueError) as exc:
            reason = " ".join(str(exc).split())
            raise ModelLoadError(f"{path / 'config.json'}: unreadable encoder config ({reason})") from None
        tokenizer = _load_tokenizer(path, int(config.vocab_size))
        net = SourcemarkNet(_load_encoder(config))
        # hashed before the weights are read: if the file is replaced in between, the key names the older
        # weights, so a graph cached under it is found stale next time rather than trusted
        digest = file_sha256(path / WEIGHTS_FILE)
        try:
            missing, unexpected = net.load_state_dict(load_file(str(path / WEIGHTS_FILE)), strict=False)
        except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
            raise ModelLoadError(f"{path / WEIGHTS_FILE}: unreadable weights or weights that do not fit "
                                 f"the network ({type(exc).__name__}: {exc})") from None
        if missing or unexpected:
            raise ModelLoadError(
                f"{path / WEIGHTS_FILE}: weights do not fit the network "
                f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
            )
        annotator = cls(net, tokenizer, settings)
        annotator.weights_sha256 = digest
        return annotator

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write weights, encoder config, tokenizer and settings into ``directory``."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().contiguous() for k, v in self.net.state_dict().items()}
        save_file(state, str(path / WEIGHTS_FILE))
        # safetensors writes the file 0600; the rest of the folder is made as the umask says, and a model
        # saved for others to score must be readable by them
        os.chmod(path / WEIGHTS_FILE, output_file_mode())
        self.weights_sha256 = file_sha256(path / WEIGHTS_FILE)
        self.net.encoder.config.save_pretrained(str(path))
        self.tokenizer.save_pretrained(str(path))
        self.settings.registry_version = self.registry.version
        (path / SETTINGS_FILE).write_text(json.dumps(asdict(self.settings), indent=2) + "\n", encoding="utf-8")

    # ------------------------------------------------------------------ prediction

    def logits(self, docs: list[Document], batch_size: int = 16) -> list[dict[str, Any]]:
        """Raw role logits and tag probabilities for documents that already have passages.

        Returns one dict per document: ``role_logits`` (passages x roles) and
        per passage, its tokens' tag probabilities and offsets. Windows are sorted by
        length so padding stays small.
        """
        windows = [w for i, d in enumerate(docs) for w in self._windows_at(d, i)]
        order = sorted(range(len(windows)), key=lambda k: len(windows[k].input_ids))
        results = [{"role_logits": torch.zeros(len(d.passages), len(ROLES)),
                    "tokens": [(np.zeros((0, len(TAGS))), []) for _ in d.passages]} for d in docs]
        pad = self.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for b in range(0, len(order), batch_size):
                chunk = [windows[k] for k in order[b : b + batch_size]]
                batch = collate([w.to_dict() for w in chunk], pad)
                out = self.net(batch["input_ids"], batch["attention_mask"], batch["passage_batch"],
                               batch["passage_spans"], batch["features"], batch["token_type_ids"])
                tag_probs = out["tag_logits"].softmax(-1).numpy()
                row = 0
                for w_pos, window in enumerate(chunk):
                    for k, (s, e) in zip(window.passage_index, window.passage_spans):
                        result = results[window.doc_index]
                        result["role_logits"][k] = out["role_logits"][row]
                        result["tokens"][k] = (tag_probs[w_pos, s:e].copy(), window.token_offsets[s:e])
                        row += 1
        return results

    def _mentions(self, doc: Document, passage: Passage, role: str,
                  tokens: tuple[Any, list[tuple[int, int]]]) -> list[SourceMention]:
        probs, offsets = tokens
        decoded = decode_mentions(probs, offsets, doc.text, self.settings.mention_threshold)
        if role == "attributed_report":
            known = [(passage.start + m.start, passage.start + m.end, m.entry.type)
                     for m in self.registry.find(doc.text[passage.start : passage.end])]
            decoded += recall_known_sources(probs, offsets, known, decoded)
            decoded.sort(key=lambda m: m.start)
        mentions = []
        for m in decoded:
            edges = tidy_span(doc.text, m.start, m.end)
            if edges is None:
                continue
            mention = SourceMention(edges[0], edges[1], m.type, round(m.score, 4))
            identified = self.registry.identify(doc.text[m.start : m.end])
            registry_type = None
            if identified is not None:
                # A known outlet anywhere in the mention decides its type: predicted spans often run on past
                # the name ("Al-Naba claims"), so requiring the name to cover most of the span misses them.
                match, registry_type = identified
                mention.type = registry_type
                mention.extra["registry_id"] = match.entry.id
            stated = stated_type(doc.text[mention.start : mention.end])
            # the words settle the type over the tagger, and over a government the registry found in the span
            if stated is not None and registry_type in (None, "official"):
                mention.type = stated
            mentions.append(mention)
        return mentions

    def _predict_chunk(self, docs: list[Document], batch_size: int) -> list[Document]:
        results = self.logits(docs, batch_size)
        out = []
        for doc, result in zip(docs, results):
            probs = (result["role_logits"] / self.settings.temperature).softmax(-1)
            passages = []
            for k, passage in enumerate(doc.passages):
                p = probs[k]
                best = int(p.argmax())
                passages.append(Passage(
                    start=passage.start, end=passage.end, label=ROLES[best],
                    sources=self._mentions(doc, passage, ROLES[best], result["tokens"][k]),
                    score=round(float(p[best]), 4),
                    probs={r: round(float(p[i]), 4) for i, r in enumerate(ROLES)},
                    extra={k2: v for k2, v in passage.extra.items() if k2 == "section"},
                ))
            out.append(harmonise_types(Document(doc.doc_id, doc.text, dict(doc.meta), passages, self.model_version)))
        return out

    def _windows_key(self) -> tuple[Any, ...]:
        s = self.settings
        return (id(self.tokenizer), s.max_length, s.context, s.isolate_passages, s.context_segment)

    def _windows(self, doc: Document, doc_index: int) -> list[Window]:
        with self._tokenizing:
            return build_windows(doc, doc_index, self.tokenizer, self.settings.max_length, self.settings.context,
                                 self.settings.isolate_passages, self.settings.context_segment)

    def _windows_at(self, doc: Document, doc_index: int) -> list[Window]:
        """The document's windows at position ``doc_index`` of a batch: those it was prepared with, or cut now."""
        if isinstance(doc, PreparedDocument) and doc.windows_key == self._windows_key():
            return [replace(w, doc_index=doc_index) for w in doc.windows]
        return self._windows(doc, doc_index)

    def prepare(self, doc: Document, resegment: bool = False, windows: bool = False) -> Document:
        """The document as the model reads it: passages cut (unless given) and flagged body or comments.

        A copy without labels or mentions; with ``windows``, a
        :class:`PreparedDocument` that carries its encoder windows too. This is
        the part of annotating that needs no model, so a batch job may run it
        ahead, in another thread, and pass the prepared documents to
        :meth:`annotate`, which keeps their passages and windows.
        """
        if isinstance(doc, PreparedDocument) and not resegment and doc.windows_key == self._windows_key():
            return doc
        working = Document(doc.doc_id, doc.text, dict(doc.meta),
                           [] if resegment else [Passage(p.start, p.end, extra=dict(p.extra)) for p in doc.passages])
        if not working.passages:
            segment(working)
        prepared = mark_sections(working)
        if not windows:
            return prepared
        # every Document field, named once: a field added to Document is carried over too
        carried = {f.name: getattr(prepared, f.name) for f in fields(Document)}
        return PreparedDocument(**carried, windows=self._windows(prepared, 0), windows_key=self._windows_key())

    def annotate(self, documents: Iterable[Document], batch_size: int = 16,
                 docs_per_chunk: int = 32, resegment: bool = False) -> Iterator[Document]:
        """Predict roles and mentions, streaming: documents are read and yielded in chunks.

        Documents without passages (or all, with ``resegment``) are segmented
        first; documents with passages keep their boundaries (gold evaluation).
        """
        chunk: list[Document] = []
        for doc in documents:
            chunk.append(self.prepare(doc, resegment))
            if len(chunk) >= docs_per_chunk:
                yield from self._predict_chunk(chunk, batch_size)
                chunk = []
        if chunk:
            yield from self._predict_chunk(chunk, batch_size)
