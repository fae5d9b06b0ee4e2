"""The source registry: known outlets and actors, their aliases and their type.

The tagger finds mention spans, including ones the registry has never seen;
the registry then recognises known aliases, gives each known source a stable
``registry_id`` that summaries can count, and corrects the type where the
guide fixes it (Amaq is ``armed_group`` whatever platform carries it). Adding
an outlet is one line in ``registry.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from sourcemark.labels import SOURCE_TYPES

REGISTRY_PATH = Path(__file__).with_name("registry.json")

#: Source types that are a medium rather than a speaker (guide section 3: mark the channel).
CHANNEL_TYPES = frozenset({"telegram_channel", "social_media"})


@dataclass(frozen=True)
class RegistryEntry:
    """One known source."""

    id: str
    type: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class RegistryMatch:
    """An alias found in a text span."""

    entry: RegistryEntry
    start: int
    end: int


class SourceRegistry:
    """Alias lookup, longest alias first, on word boundaries, case-insensitive for long aliases.

    Short all-capital aliases (AP, RT, WHO) match case-sensitively only, so the
    pronoun "who" or the word "rt" never becomes an outlet.
    """

    def __init__(self, entries: list[RegistryEntry], version: str) -> None:
        self.entries = entries
        self.version = version
        pieces = []
        self._by_alias: dict[str, RegistryEntry] = {}
        for entry in entries:
            if entry.type not in SOURCE_TYPES:
                raise ValueError(f"registry entry {entry.id!r}: unknown type {entry.type!r}")
            for alias in entry.aliases:
                owner = self._by_alias.setdefault(self._key(alias), entry)
                if owner is not entry:
                    raise ValueError(f"registry entries {owner.id!r} and {entry.id!r} share the alias {alias!r}")
                pieces.append(alias)
        pieces.sort(key=len, reverse=True)
        alternatives = "|".join(
            re.escape(a) if self._case_sensitive(a) else f"(?i:{re.escape(a)})" for a in pieces
        )
        self._pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")

    @staticmethod
    def _case_sensitive(alias: str) -> bool:
        return len(alias) <= 4 and alias.isupper()

    @staticmethod
    def _key(alias: str) -> str:
        return alias.casefold().replace("’", "'")

    @classmethod
    def load(cls, path: str | Path = REGISTRY_PATH) -> "SourceRegistry":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = [RegistryEntry(e["id"], e["type"], tuple(e["aliases"])) for e in data["sources"]]
        return cls(entries, str(data.get("version", "unversioned")))

    def find(self, text: str) -> Iterator[RegistryMatch]:
        """Every known alias in ``text``, left to right, not overlapping."""
        for m in self._pattern.finditer(text):
            entry = self._by_alias.get(self._key(m.group(0)))
            if entry is not None:
                yield RegistryMatch(entry, m.start(), m.end())

    @staticmethod
    def _longest(matches: Iterable[RegistryMatch]) -> RegistryMatch | None:
        """The longest match; the first of equals."""
        return max(matches, key=lambda m: m.end - m.start, default=None)

    def best_match(self, span: str) -> RegistryMatch | None:
        """The longest known alias inside a mention span, if any."""
        return self._longest(self.find(span))

    def identify(self, span: str) -> tuple[RegistryMatch, str] | None:
        """The known source a mention span names (its longest alias) and the type the registry fixes for it.

        A platform named in the span ("the NLF's Telegram channel", "CENTCOM's X
        account") decides the type over the longer name of its owner: the guide
        marks the channel when a passage names both speaker and channel, and
        nearly every gold mention in the corpus that names a registry platform
        is typed as one.
        """
        matches = list(self.find(span))
        longest = self._longest(matches)
        if longest is None:
            return None
        platform = self._longest(m for m in matches if m.entry.type in CHANNEL_TYPES)
        return longest, (platform or longest).entry.type

    def lookup(self, span: str) -> RegistryEntry | None:
        """The known source a mention span names, if any (the longest alias inside it)."""
        match = self.best_match(span)
        return match.entry if match else None


@lru_cache(maxsize=1)
def default_registry() -> SourceRegistry:
    """The registry shipped with the package."""
    return SourceRegistry.load()
