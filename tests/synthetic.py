"""Small synthetic annotated documents with a learnable pattern, for training tests.

Not a corpus: just enough structure (cue words, comment sections, furniture)
that a model that learns anything beats the majority class.
"""

from __future__ import annotations

import random

from sourcemark.documents import Document, Passage, SourceMention

_PLACES = ["Idlib", "Daraa", "Aleppo", "Homs", "Raqqa", "Hama", "Deir Ezzor", "Latakia"]
_SOURCES = [("SOHR", "monitor_group"), ("SANA", "state_media"), ("Amaq", "armed_group"),
            ("Reuters", "news_media"), ("OCHA", "humanitarian_org")]


def _sentence(rng: random.Random, role: str) -> tuple[str, list[tuple[int, int, str]]]:
    place = rng.choice(_PLACES)
    n = rng.randint(2, 90)
    if role == "claim":
        return f"Troops entered {place} on day {n} after heavy shelling.", []
    if role == "analysis":
        return f"It is likely that the fighting in {place} will spread further.", []
    if role == "attributed_report":
        name, kind = rng.choice(_SOURCES)
        return f"{name} said {n} people were killed in {place}.", [(0, len(name), kind)]
    if role == "reader_comment":
        return f"i dont believe any of this about {place.lower()} lol", []
    return f"Tags: {place}, war, news", []


def synthetic_documents(count: int, seed: int = 0) -> list[Document]:
    """``count`` documents of body sentences, a tag line and a comment section."""
    rng = random.Random(seed)
    docs = []
    for i in range(count):
        pieces: list[tuple[str, str, list]] = []
        for _ in range(rng.randint(5, 9)):
            role = rng.choice(["claim", "analysis", "attributed_report"])
            pieces.append((role, *_sentence(rng, role)))
        pieces.append(("other", *_sentence(rng, "other")))
        pieces.append(("other", "3 Comments", []))
        for _ in range(rng.randint(1, 3)):
            pieces.append(("reader_comment", *_sentence(rng, "reader_comment")))
        text, passages = "", []
        for role, sentence, mentions in pieces:
            start = len(text)
            text += sentence + "\n"
            sources = [SourceMention(start + a, start + b, kind) for a, b, kind in mentions]
            passages.append(Passage(start, start + len(sentence), role, sources))
        docs.append(Document(f"synthetic-{seed}-{i}", text, {}, passages))
    return docs
