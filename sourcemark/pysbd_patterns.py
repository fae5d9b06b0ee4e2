"""pysbd with its regular expressions compiled once per process, not once per call.

pysbd builds many of its patterns at run time (one per abbreviation it meets,
formatted into a template) and hands them to the ``re`` module functions, whose
own cache holds 512 patterns. pysbd uses more than that, so the cache kept
evicting them and about half of pysbd's time went to compiling the same
patterns again. Enlarging ``re``'s cache would change a setting of the whole
interpreter; instead pysbd's modules get their own ``re`` here: the same
functions with the same results, over a larger cache of compiled patterns that
only pysbd uses.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import Any

#: Compiled patterns kept for pysbd. Its fixed rules are a few hundred; it also builds patterns from words
#: of the text (about a dozen new ones per article), which least-recently-used eviction drops again, so the
#: cache stays bounded (a few MB) while the rules it reuses stay compiled.
CACHE_SIZE = 4096


class CachedRe:
    """The ``re`` functions pysbd calls, over an LRU cache of compiled patterns; the rest of ``re`` as is."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.compile = functools.lru_cache(maxsize=size)(re.compile)

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)  # flags, escape, error, Pattern, ...

    def sub(self, pattern: Any, repl: Any, string: str, count: int = 0, flags: int = 0) -> str:
        return self.compile(pattern, flags).sub(repl, string, count)

    def subn(self, pattern: Any, repl: Any, string: str, count: int = 0, flags: int = 0) -> tuple[str, int]:
        return self.compile(pattern, flags).subn(repl, string, count)

    def search(self, pattern: Any, string: str, flags: int = 0) -> re.Match[str] | None:
        return self.compile(pattern, flags).search(string)

    def match(self, pattern: Any, string: str, flags: int = 0) -> re.Match[str] | None:
        return self.compile(pattern, flags).match(string)

    def fullmatch(self, pattern: Any, string: str, flags: int = 0) -> re.Match[str] | None:
        return self.compile(pattern, flags).fullmatch(string)

    def findall(self, pattern: Any, string: str, flags: int = 0) -> list[Any]:
        return self.compile(pattern, flags).findall(string)

    def finditer(self, pattern: Any, string: str, flags: int = 0) -> Any:
        return self.compile(pattern, flags).finditer(string)

    def split(self, pattern: Any, string: str, maxsplit: int = 0, flags: int = 0) -> list[Any]:
        return self.compile(pattern, flags).split(string, maxsplit)


PYSBD_RE = CachedRe()


def install() -> None:
    """Point every loaded pysbd module that imported ``re`` at the cached one (idempotent)."""
    import pysbd  # noqa: F401 - loads pysbd's modules, so they are in sys.modules below

    for name, module in list(sys.modules.items()):
        if (name == "pysbd" or name.startswith("pysbd.")) and getattr(module, "re", None) in (re, PYSBD_RE):
            module.re = PYSBD_RE  # type: ignore[attr-defined]
