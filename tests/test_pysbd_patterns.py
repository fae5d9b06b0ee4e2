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


def test_sentences_without_a_pattern_per_sentence_are_pysbds_own() -> None:
    """Same strings as ``Segmenter.segment`` on real articles and on repeats that pysbd's scan must skip past."""
    from sourcemark.bundled import split_real_articles

    splitter = pysbd.Segmenter(language="en", clean=False)
    texts = [TEXT, "Yes. Yes. Yes.", "Killed.  Killed. \n Killed?", "a.a.a. a.", "", "   ",
             "He said: \"Go.\" He said: \"Go.\""]
    texts += [d.text[:3000] for d in split_real_articles()[0][:25]]
    for text in texts:
        assert pysbd_patterns.sentences(splitter, text) == splitter.segment(text), text[:60]


def test_abbreviation_search_answers_as_pysbds_own() -> None:
    from pysbd.abbreviation_replacer import AbbreviationReplacer
    from pysbd.lang.english import English

    from sourcemark.bundled import split_real_articles

    segment_text(TEXT)  # installs
    assert pysbd_patterns.pysbd_abbreviation_search is not None
    lines = [TEXT, "He met a U.S. official. a. A. a.m. The Gen. said no. Col. Ali and col. Omar left at 3 p.m.",
             "No. 5 was hit. Fig. 2 shows it. St. Elias church, approx. 40 km away, etc. and so on."]
    lines += [d.text[:2500] for d in split_real_articles()[0][:40]]
    for line in lines:
        replacer = AbbreviationReplacer(line, English)
        assert (pysbd_patterns.search_for_abbreviations_in_string(replacer, line)
                == pysbd_patterns.pysbd_abbreviation_search(replacer, line)), line[:60]
