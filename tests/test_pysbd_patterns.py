"""pysbd's own cache of compiled patterns: the same sentences as with ``re``."""

from __future__ import annotations

import re

import pysbd

from sourcemark import pysbd_patterns
from sourcemark.segmentation import segment_text

TEXT = ("Dr. Haddad said the U.S. envoy arrived at 9 a.m. on Jan. 3. Gen. Karimov denied it. "
        "\"We saw smoke,\" said Mr. Ali. SOHR put the toll at 41.")


def test_pysbd_modules_use_the_cached_re_and_split_the_same_sentences() -> None:
    plain = pysbd.Segmenter(language="en", clean=False).segment(TEXT)  # may run before or after install
    segment_text(TEXT)  # the segmenter installs the cache for pysbd
    import pysbd.abbreviation_replacer as replacer

    assert replacer.re is pysbd_patterns.PYSBD_RE
    assert pysbd.Segmenter(language="en", clean=False).segment(TEXT) == plain
    assert pysbd_patterns.PYSBD_RE.compile.cache_info().currsize > 0


def test_the_cached_functions_answer_as_re_does() -> None:
    cached = pysbd_patterns.CachedRe(size=4)
    text = "a1b22c333"
    assert cached.sub(r"\d+", "#", text) == re.sub(r"\d+", "#", text)
    assert cached.findall(r"\d+", text) == re.findall(r"\d+", text)
    assert cached.split(r"\d+", text, 1) == re.split(r"\d+", text, 1)
    assert cached.search("B", text, re.I).span() == re.search("B", text, re.I).span()
    assert [m.span() for m in cached.finditer(r"\d", text)] == [m.span() for m in re.finditer(r"\d", text)]
    assert cached.escape("a.b") == re.escape("a.b") and cached.IGNORECASE == re.IGNORECASE
