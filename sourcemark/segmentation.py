"""Split a document into passages (ANNOTATION_GUIDE.md section 1) and find the comment section.

Editorial lines are split into sentences by pysbd; lines in the comment
section stay whole, one passage a line. Each passage gets a ``section`` field
(``body`` or ``comments``) so the model can tell a reader's words from the
author's. Offsets index the text exactly as read.

Much real text lost its line breaks and punctuation (CSV exports, datasets,
copied pages: FA-KES articles are one paragraph without a single comma). The
guide cuts such text as if the breaks were there (rules 3a.10-12), so a line
goes through three steps:

1. Page furniture is cut out first: a leading date or "Published ..." line,
   the headline when the reader knows it (``meta['title']``), "Get short URL"
   and share counters, tag lists, "Related", credit lines ("Source: ...",
   "(Reporting by ...)", "- REUTERS"), navigation footers. Each is a passage.
2. The text between is split into sentences by pysbd.
3. Sentence rules repair what lost punctuation hides: a sentence opener glued
   to the previous words ("... in Aleppo city According to a source"), a
   section heading run into its first sentence ("Homs Meanwhile ..."), a
   dateline ("BEIRUT (Reuters) -"), a photo credit with its teaser headline;
   quotations are joined per rule 3a.4 and a caption keeps its credit
   (rule 3a.9); a list of related headlines after "Related" is cut one
   headline a passage (:mod:`sourcemark.segmentation_rules`).

Every step works on one line or one sentence at a time and scans it a fixed
number of times, so segmentation stays linear in the text length.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from dataclasses import dataclass, replace
from typing import Callable, Iterator

import pysbd

from sourcemark import pysbd_patterns
from sourcemark.documents import Document, Passage
from sourcemark.readers import COMMENT_START_KEY
from sourcemark.segmentation_rules import LIST_CHARS, LIST_MARKER, SENTENCE_END_CHARS, split_headline_list

# --------------------------------------------------------------------------------------------
# Comment section
# --------------------------------------------------------------------------------------------

_COMMENT_HEADER = re.compile(
    r"""^\s*(
        \d[\d,.]*\s+(comments?|responses?|replies|thoughts?\s+on\b.*|reactions?)\s*:?\s*$   # "12 Comments", "5 thoughts on “...”"
      | (\d+\s+)?comments?\s*(\(\d+\))?\s*:?$                                              # "Comments", "Comments (4)"
      | (one|two|three|four|five|six|seven|eight|nine|ten)\s+(comments?|responses?|thoughts?\s+on\b.*)$
      | leave\s+a\s+(reply|comment).*                                                     # WordPress form
      | load\s+more\s+comments.*
      | (show|view)\s+(all\s+)?\d*\s*comments?.*
      | reader\s+comments?\s*(\(\d+\))?\s*:?$                                              # "Reader comments (7)"
      | (most\s+relevant|all|top|newest|oldest|latest)(\s+comments?)?\s*[:▾▼⌄]?$              # Facebook / Disqus sort bars
      | comments?\s*[·•:|]\s*\d[\d,.]*k?$                                                    # "Comments · 94"
      | \d[\d,.]*\s+comments?\s+(so\s+far|and\s+counting)$
      | join\s+the\s+discussion.*
      | what\s+do\s+you\s+think\??$
    )\s*$""",
    re.I | re.X,
)
_PINGBACK = re.compile(r"^\s*(\d+\.\s*)?(pingback|trackback)\s*:", re.I)
_SAYS = re.compile(r"^\s*\S.{0,60}\s(says|said|wrote|commented)\s*:\s*$", re.I)
_DISQUS_CHROME = re.compile(
    r"^\s*(•?\s*\d+\s+(seconds?|minutes?|hours?|days?|weeks?|months?|years?)\s+ago|reply|share\s*›?|"
    r"like\s*·\s*reply.*|\d+\s*\^?\s*\|\s*v\s*•?\s*reply.*|upvote|downvote|see\s+more)\s*$",
    re.I,
)

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_WEEKDAY = (r"(?:Mon(?:day)?|Tue(?:s(?:day)?)?|Wed(?:nesday)?|Thu(?:r(?:s(?:day)?)?)?|Fri(?:day)?|"
            r"Sat(?:urday)?|Sun(?:day)?)\.?,?")
_YEAR = r"(?:19|20)\d\d"
_CLOCK = r"\d{1,2}:\d\d(?::\d\d)?(?:\s*[AaPp]\.?[Mm]\.?)?"
_DAY_DATE = (rf"(?:(?:{_WEEKDAY}\s+)?(?:\d{{1,2}}\s+{_MONTH},?\s+{_YEAR}|{_MONTH}\s+\d{{1,2}},?\s+{_YEAR})"
             rf"|\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}|{_YEAR}-\d\d-\d\d)")
#: A comment's time stamp, always with a clock time: "7:50 PM", "March 3, 2016 at 7:50 pm",
#: "3 March 2016 19:50", "7:50 PM, March 3, 2016".
_STAMP = (rf"(?:{_DAY_DATE}\s*(?:at|@|,|-|·)?\s*{_CLOCK}|{_CLOCK}(?:\s*(?:on|,|-|·)?\s*{_DAY_DATE})?)")
#: A commenter's name: a few capitalised words, initials allowed ("Abu Karim", "Rania S."), or a user
#: name ("marwan_k", "@rania84").
_COMMENTER = (r"(?!(?:By|Posted|Published|Updated|On|At)\b)(?:[A-Z@][\w.'@-]*(?:\s+[A-Z@][\w.'@-]*){0,3}"
              r"|@?[\w.-]*[_\d][\w.-]*)")
#: Blogger's comment header: "Anonymous said..." / "Marwan K. said…", a time stamp after it allowed.
_BLOGGER_SAID = re.compile(rf"^\s*\S.{{0,60}}?\s(?:said|says|wrote)\s*(?:\.\.\.|…)\s*(?:{_STAMP}\s*)?$", re.I)
#: A numbered comment's header line: "2. Abu Karim 7:50 PM", "14. Rania on March 3, 2016 at 7:50 pm".
_NUMBERED_COMMENT = re.compile(rf"^\s*\d{{1,3}}[.)]\s+{_COMMENTER}\s+(?:on\s+|at\s+|[-·|,]\s*)?{_STAMP}\s*:?$")
#: A comment list's header line without a number: "Abu Karim 7:50 PM", "Rania | March 3, 2016 at 7:50 pm",
#: or a dated time stamp alone on its line ("March 3, 2016 at 7:50 pm").
_COMMENT_STAMP_LINE = re.compile(
    rf"^\s*(?:{_COMMENTER}\s+(?:on\s+|at\s+|[-·|,]\s*)?{_STAMP}|{_DAY_DATE}\s*(?:at|@|,|-|·)?\s*{_CLOCK})\s*:?$")
#: Comment headers needed before a section without a heading counts as one.
_MIN_UNHEADED_COMMENTS = 2


@dataclass(frozen=True)
class Line:
    """A non-blank line of the text: its span without the line break or edge spaces."""

    start: int
    end: int


def iter_lines(text: str) -> Iterator[Line]:
    """Yield each non-blank line's span, stripped of surrounding whitespace (``\\r`` included)."""
    position = 0
    for raw in text.splitlines(keepends=True):
        content = raw.rstrip("\r\n")
        stripped = content.strip()
        if stripped:
            lead = len(content) - len(content.lstrip())
            yield Line(position + lead, position + lead + len(stripped))
        position += len(raw)


def opens_comment_section(line: str) -> bool:
    """Does this line start a comment section ("12 Comments", "Leave a Reply", "X says:", a pingback)?"""
    return bool(_COMMENT_HEADER.match(line) or _PINGBACK.match(line) or _SAYS.match(line)
                or _BLOGGER_SAID.match(line))


def is_comment_marker(line: str) -> bool:
    """Does this line open a comment section or belong to its chrome ("Reply", "3 hours ago")?

    Chrome alone never opens a section: a "Share" button line also sits under
    many article bodies.
    """
    return opens_comment_section(line) or bool(_DISQUS_CHROME.match(line))


def _comment_header_line(line: str) -> bool:
    """A line that heads one comment in a list without a section heading (name and time stamp)."""
    if len(line) > 120:
        return False
    return bool(_NUMBERED_COMMENT.match(line) or _COMMENT_STAMP_LINE.match(line))


def _unheaded_comment_start(text: str, lines: list[Line], floor: int) -> int | None:
    """Where a comment list without a heading starts: the first of several comment header lines.

    Numbered comments ("1. Name 7:50 PM", "2. Name 8:02 PM"), Blogger's
    "Name said..." lines and plain lists of "Name  March 3, 2016 at 7:50 pm"
    headers look like nothing in an article body once two of them follow each
    other; a time stamp alone on its line takes the short name line above it
    along.
    """
    headers = [k for k, line in enumerate(lines)
               if line.start >= floor and _comment_header_line(text[line.start:line.end])]
    if len(headers) < _MIN_UNHEADED_COMMENTS:
        return None
    first = headers[0]
    line = text[lines[first].start:lines[first].end]
    stamp_only = re.fullmatch(rf"\s*{_STAMP}\s*:?", line, re.I) is not None
    if stamp_only and first > 0:
        above = text[lines[first - 1].start:lines[first - 1].end]
        if (lines[first - 1].start >= floor and re.fullmatch(_COMMENTER, above) is not None
                and not re.search(r"[a-z]{2}[.!?]$", above)):
            return lines[first - 1].start  # the commenter's name line above the time stamp
    return lines[first].start


def find_comment_start(text: str, lines: list[Line], meta: dict | None = None) -> int | None:
    """The offset where the comment section starts, or None.

    A reader that knows the structure (HTML) stores it in ``meta``; otherwise
    the first comment marker line counts, but only in the later part of the
    text, because a body sentence rarely looks like "12 Comments" while a
    comment section never opens an article. A section without a heading is
    recognised by its comment header lines (numbered, Blogger-style, or
    name-and-time-stamp lines), at least two of them.
    """
    if meta and isinstance(meta.get(COMMENT_START_KEY), int):
        return meta[COMMENT_START_KEY]
    floor = int(len(text) * 0.25)
    headed = None
    for line in lines:
        if line.start >= floor and opens_comment_section(text[line.start : line.end]):
            headed = line.start
            break
    unheaded = _unheaded_comment_start(text, lines, floor)
    found = [x for x in (headed, unheaded) if x is not None]
    return min(found) if found else None


# --------------------------------------------------------------------------------------------
# Sentence splitter
# --------------------------------------------------------------------------------------------

#: One pysbd Segmenter per thread: ``Segmenter.segment`` keeps the text it is working on in an attribute
#: and reads it back to find each sentence, so one instance shared by threads (the ML backend's request
#: threads) returns sentences of another thread's text. Everything else pysbd uses is built per call.
_thread_state = threading.local()


def _splitter():  # type: ignore[no-untyped-def]
    splitter = getattr(_thread_state, "splitter", None)
    if splitter is None:
        pysbd_patterns.install()
        splitter = _thread_state.splitter = pysbd.Segmenter(language="en", clean=False)
    return splitter


# --------------------------------------------------------------------------------------------
# Page furniture (guide rules 3a.10-12): found in a line before sentences are split
# --------------------------------------------------------------------------------------------

_CAL_DATE = (rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+{_YEAR}"
             rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s*{_YEAR})")  # "Jul 012016": day and year glued
_NUM_DATE = rf"(?:\d{{1,2}}[./-]\d{{1,2}}[./-]{_YEAR}|{_YEAR}-\d\d-\d\d)"
_HEADER_PREFIX = (r"(?:Published|Posted(?:\s+on)?|Updated(?:\s+on|\s+at)?|Last\s+(?i:updated?)(?:\s+on|\s+at)?|"
                  r"Date\s+of\s+(?i:publication)|First\s+(?i:published)(?:\s+on)?|Publication\s+(?i:date))\s*:?")
#: A date line: "Tue 05 Jul 2016", "Friday 21 November 2014 10:13", "Published February 18 2015",
#: "11.10.2017(updated 1838 11.10.2017)", "2159 18.05.2017", "Posted on April 19 2017 by Name".
_DATE_HEADER = re.compile(
    rf"(?P<prefix>{_HEADER_PREFIX}\s*)?(?P<hhmm>\d{{4}}\s+(?={_NUM_DATE}))?"
    rf"(?P<weekday>{_WEEKDAY}\s+)?(?:{_CAL_DATE}|(?P<numeric>{_NUM_DATE}))"
    # "10:13", "at 7:50 pm GMT", "KSA 16:06 - GMT 13:06", "2037 UTC+3" (a clock that lost its colon)
    rf"(?:\s*,?\s*(?:at\s+)?(?:[A-Z]{{3}}\s+)?{_CLOCK}(?:\s*(?:GMT|UTC|[A-Z]{{2,4}}T))?"
    rf"(?:\s*[-–]\s*(?:GMT|UTC)\s+{_CLOCK})?|\s+\d{{4}}\s+UTC[+-]\d{{1,2}})?"
    rf"(?:\s*\(?\s*updated\s+[^()]{{1,40}}\))?(?:\s*\))?"
    r"(?:\s+by\s+[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,2})?"
)
_DATE_START = re.compile(
    rf"(?<![\w.-])(?:{_WEEKDAY}\s|{_MONTH}\s|\d|Published|Posted|Updated|Last\s|Date\s+of|First\s|Publication)")
#: Words before a date that make it part of a sentence, not a date line.
_DATE_IN_SENTENCE = re.compile(
    r"(?:\b(?:on|since|from|until|till|to|by|of|in|at|the|last|this|next|dated|between|and|before|after|"
    r"until|through|during|early|late|mid|that|as)\s*)$", re.I)

#: Strong furniture: recognised wherever it stands in a line.
_FURNITURE = re.compile(
    r"""(?x)
      Get\ short\ URL
    | \bViews\s+\d[\d,]*\b
    | \bSlideshow\s*\(\d+\s+[Ii]mages?\)
    | \bCommunity\ standards
    | (?<=standards)Discussion\b
    | (?:\b|(?<=[a-z]))Comment\ via\ [A-Z][a-z]+(?:\ News)?
    | \bRelated(?:\ News|\ Coverage|\ Articles?|\ Stories|\ Posts|\ Content|\ Topics)?(?=\s+[A-Z0-9"“]|\s*$)
    | \bCategory\s+[A-Z][a-z]+\b(?=\s+[A-Z0-9"“]|\s*$)
    | \bTopic\s+[A-Z][^()\n]{2,120}?\(\d+\)
    | (?:\.\.\.|…)\s*\d+\b(?!\s*[a-z])
    | \bOur\ Standards:[^.]{0,80}\.?
    | (?:\bCopyright\s*(?:•\s*)?(?:©\s*)?|©\s*)\d{4}\s*[A-Z][^.]{0,50}\.?
    | \b(?:Watch\ Live|TV\ Schedule|Where\ to\ Watch|Contact\ Us|About\ Us|Terms\ of\ (?:Use|Service)
         |Privacy\ Policy|Cookie\ Policy|Press\ Releases|Advertise\ with\ Us|All\ rights\ reserved\.?)\b
    | \bFOLLOW\s+[A-Z0-9]{2,}\b | \bSUBSCRIBE\b | \bNEWSLETTER\b
    | \bSlideshow\b(?=\s+[A-Z])
    | (?:\bAdditional\ reporting|\bReporting|\bWriting|\bEditing|\bCompiled|\bEdited)\ by\ [^.\n]{2,200}?
      (?=\s+Our\ Standards|\s*\)?\s*$)
    | \(\s*(?:Additional\ reporting|Reporting|Writing|Editing)\ by\ [^()]{2,200}\)
    | \b(?:[A-Z][\w-]*(?:\s+and\s+[A-Z][\w-]*)?)\s+contributed(?:\s+to\s+this\s+report)?\.?(?=\s+[A-Z]|\s*$)
    | \(\s*[A-Z][\w-]*(?:\s+[A-Z][\w-]*){0,3}\s+(?:and|&)\s+(?:[Aa]gencies|[A-Z][\w-]*(?:\s+[A-Z][\w-]*){0,2})\s*\)
      (?=\s+[A-Z]|\s*$)
    | (?<=[.!?"”])\s*[-–—]{1,2}\s*[A-Z][\w&]*(?:\s+[A-Z][\w&]*){0,2}\s*$
    | \b(?:Read\ (?:Also|also|More|more)|READ\ MORE|READ\ ALSO|Check\ also|See\ also|Also\ read)\b:?
    | \bTags?:?(?=\s+\S)
    | \(?\bSource:?\s+(?=[A-Z])
    | (?<![\w/])[A-Z][\w.'-]*(?:\ [A-Z][\w.'-]*)?(?:\ ?/\ ?[A-Za-z][\w.'-]*(?:\ [A-Za-z][\w.'-]*)?){2,}\s*$
    """
)
#: Weak furniture: navigation words that count only next to other furniture ("Like Follow Follow").
_WEAK_FURNITURE = re.compile(
    r"(?<![-–—] )(?<![-–—])\b(?:Like|Follow|Subscribe|Share|Print|Tweet|Email|E-mail|iOS|Android|"
    r"Youtube|YouTube|Facebook|Twitter|Instagram|Telegram|WhatsApp|Corporate|Careers|Legal|Discussion|Comments?|SEND|"
    r"Satellite\s+Coverage|Partner\s+Hotels|"
    r"Connect\s+with\s+[A-Z][\w-]*(?:\s+[A-Z][\w-]*)?|About\s+[A-Z][\w-]*(?:\s+[A-Z][\w-]*)?|"
    r"[A-Z][\w-]*(?:\s+[A-Z][\w-]*)?\s+on\s+(?:Youtube|YouTube|Facebook|Twitter|Instagram|Telegram)|"
    r"https?\S+|www\.\S+)(?![\w-])(?=\s+(?:[A-Z0-9\"“(]|iOS|http|www)|\s*$)"
)
#: Counters after "Get short URL" or a topic line: "0 25", "6319".
_COUNTER = re.compile(r"\s*\d+(?:\s+\d+)?(?=\s+[A-Z\"“]|\s*$)")
#: A tag list ends within this many characters (the search for its end stops there).
_TAG_LIST_CHARS = 400
#: Sources of a whole article after "Source": up to this many words.
_SOURCE_WORDS = 5

#: Words that open a sentence; after lost punctuation they mark where the next sentence starts.
_OPENERS = frozenset(
    "The According Meanwhile Earlier Elsewhere Later Nearly Almost Eleven Twelve Two Three Four Five Six Seven "
    "Eight Nine Ten We A An In On After About Over It They He She This These There Thousands Hundreds Dozens "
    "Are Is How Why What No Residents Activists".split())
#: Openers that start a sentence only before a lowercase word or a number ("A rebel", not "A Day").
_OPENERS_BEFORE_LOWER = frozenset(
    "Eleven Twelve Two Three Four Five Six Seven Eight Nine Ten We A An In On After About Over It They He She This "
    "These There Thousands Hundreds Dozens No Residents Activists".split())
_TIME_WORD = re.compile(rf"{_WEEKDAY}|{_MONTH}|(?:19|20)\d\d")
#: Openers that count people or things ("Dozens of civilians"): in a title-case headline they are no opener.
_COUNT_OPENERS = frozenset(
    "Eleven Twelve Two Three Four Five Six Seven Eight Nine Ten Thousands Hundreds Dozens".split())
_MULTIWORD_OPENERS = re.compile(r"(?:At least|More than)\b")
#: A word after which a capitalised opener belongs to the same sentence ("told The New Arab").
_NO_CUT_AFTER = frozenset(
    "told to by of and from with for in on at the a an said says say tell tells as via than or that into onto "
    "about near against toward towards between under over after before during since while when where is was are "
    "were be been called named dubbed titled reported wrote per like including whom which who its their his her "
    "our your my".split())
#: Lowercase words a title-case headline or tag list may contain.
_TITLE_SMALL = frozenset(
    "of in on at to for the a an and as with from by vs near over after into amid against is are out up off or "
    "but via".split())
#: Lowercase words that show a sentence has begun after a tag list.
_SENTENCE_WORDS = frozenset(
    "the a an on in at to by with from has have had was were is are say says said been killed that".split())

_WORD = re.compile(r"\S+")
#: News agencies whose name, with a dash, is a dateline of their own ("SANA-", "Aleppo SANA -", "NNA -").
_DATELINE_AGENCIES = r"SANA|NNA|KUNA|WAFA|MENA|IRNA|QNA|SPA|Petra|BNA|ONA"
_DATELINE = re.compile(
    r"""(?x)
      [A-Z][A-Z.'-]+(?:\s+[A-Z][A-Z.'-]+){0,3}\s*(?:,\s*[^()\-–—\n]{1,30}?)?\s*\([^()\n]{1,30}\)\s*[-–—:]*
    | [A-Z][A-Z.'-]+(?:\s+[A-Z][A-Z.'-]+){0,3}\s+""" + _MONTH + r"""\s+\d{1,2}\s*\([^()\n]{1,30}\)\s*[-–—:]*
    | (?:[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?,?\s+)?(?:""" + _DATELINE_AGENCIES + r""")\s*[-–—]{1,2}(?=\s*[A-Z"“])
    | [A-Z][A-Z.'-]+(?:\s+[A-Z][A-Z.'-]+){0,3}(?:,\s*[^()\-–—\n]{1,30}?)?\s+[-–—]{1,2}(?=\s)
    | \([A-Za-z][\w .'-]{0,25}\)\s*[-–—]{1,2}
    | [A-Z][a-z]+(?:[ -][A-Z][a-z]+)?(?:,\s*[^()\-–—\n]{1,30}?)?\s*\([A-Z]{2,6}\)\s*[-–—]{1,2}
    """
)
#: Words a sentence after a dateline has at least.
_DATELINE_SENTENCE_WORDS = 5
#: A dateline that is only a place in capitals ("BEIRUT At least 70 ..."), opening a text piece.
_CAPS_PLACE = re.compile(r"[A-Z]{4,}(?:\s+[A-Z]{4,})?(?=\s+[A-Z](?:[a-z]|\s))")
#: Cities that head wire copy: in capitals before a sentence they are a dateline, whatever the sentence's first words.
_DATELINE_CITIES = frozenset(
    "BEIRUT DAMASCUS ALEPPO MOSCOW ANKARA ISTANBUL AMMAN CAIRO BAGHDAD TEHRAN RIYADH DOHA DUBAI GENEVA VIENNA "
    "BRUSSELS PARIS LONDON BERLIN WASHINGTON JERUSALEM ERBIL IDLIB HOMS DARAA RAQQA QAMISHLI GAZIANTEP "
    "MANBIJ HAMA LATAKIA KILIS HATAY ASTANA SOCHI".split()) | {"UNITED NATIONS", "NEW YORK"}
_DATELINE_INSIDE = re.compile(
    rf"(?<=[a-z0-9)] )[A-Z]{{4,}}(?:\s+[A-Z]{{4,}})?\s+\([A-Z][\w .-]{{1,20}}\)(?:\s*[-–—]{{1,2}})?"
    rf"(?=\s+[A-Z\"“]|\s*$)(?!\s+{_MONTH}\s+\d)"
    rf"|(?<=[0-9] )(?:[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?\s+)?(?:{_DATELINE_AGENCIES})\s*[-–—]{{1,2}}(?=\s*[A-Z\"“])")
_CAPS_PLACE_AFTER_NOTE = re.compile(r"(?<=\) )[A-Z]{4,}(?:\s+[A-Z]{4,})?(?=\s+[A-Z][a-z])")
#: Wire agencies whose name alone is a credit line next to a headline or a date line.
_WIRES = r"AFP|AP|Reuters|REUTERS|dpa|DPA|AA|Anadolu|Xinhua|UPI|IRNA|KUNA|WAFA|MENA|NNA|ANI"
_AGENCY = r"(?:REUTERS|Reuters|AFP|AP|EPA|Getty\s+Images|Sputnik|SANA|AA|Anadolu|Handout|UPI|Xinhua|TASS)"
#: A photo credit opening a caption line: "REUTERS Rodi Said", "AFP 2018 Ayham al-Mohammad".
_NAME_WORD = r"(?:[A-Z][\w.'-]*|al-[A-Z][\w'-]*)"
_PHOTO_CREDIT = re.compile(rf"{_AGENCY}(?:\s+\d{{4}}|\s+Photo)?\s+{_NAME_WORD}\s+{_NAME_WORD}(?=\s|$)")
#: A title-case run after a photo credit is a teaser headline of its own from this many words on.
_TEASER_WORDS = 5
#: A credit that ends a caption: "REUTERS/Stringer", "Photograph: Handout/Reuters".
_CAPTION_CREDIT = re.compile(
    rf"(?:(?:Photograph|Photo|Picture|Image)\s*:\s*[A-Z][\w-]*(?:\s+[A-Z][\w-]*){{0,2}}\s*/\s*[A-Z][\w-]*"
    rf"|{_AGENCY}\s*/\s*[A-Z][\w-]*(?:\s+(?!(?:The|A|An|I|In|On|It|He|She|They|We)\b)[A-Z][\w-]*)?)")
#: A TASS-style dateline, which pysbd would cut in three: "Moscow. March 3. /TASS/."
_SLASH_DATELINE = re.compile(rf"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?\.\s+{_MONTH}\s+\d{{1,2}}\.\s*/[A-Z][A-Za-z-]+/\s*\.?")
#: "... - YouTube": the title of an embedded video ends here.
_YOUTUBE = re.compile(r"\s[-–—]\s*YouTube\b")
#: An embedded tweet's signature: "... Name (handle) July 27 2016".
_TWEET_END = re.compile(rf"\([A-Za-z0-9_]{{1,20}}\)\s+{_MONTH}\s+\d{{1,2}},?\s+{_YEAR}")
_TWEET_SIGNATURE = re.compile(rf"(?:\S+\s+){{0,4}}\([A-Za-z0-9_]{{1,20}}\)\s+{_MONTH}\s+\d{{1,2}},?\s+{_YEAR}")
_PLAIN_DATE = re.compile(rf"(?:{_WEEKDAY}\s+)?{_CAL_DATE}\.?")
_PHOTO_NOTE = re.compile(r"\((?:[^()]*\b[Pp]hoto\b[^()]*|[^()]*\b[Ff]ile\b[^()]*)\)\.?")


def _words(chunk: str, start: int, end: int) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _WORD.finditer(chunk, start, end)]


def _is_titleword(word: str) -> bool:
    w = word.lstrip("\"“(['‘")
    if not w:
        return True
    return (w[0].isupper() or w[0].isdigit() or w.lower() in _TITLE_SMALL or w in ("-", "–", "—", "|", "&")
            or re.match(r"(?:al|el|ad|ash|as|az|an|ar|at|ez|es|ibn|bin|de|du|la)-[A-Z]", w) is not None)


def _sentence_start_in(chunk: str, words: list[tuple[int, int]]) -> int | None:
    """In a run of title-case words (a headline, a teaser, a tag list), the index of the word
    where a sentence takes over, or None when the run never turns into a sentence."""
    for k, (s, e) in enumerate(words):
        if k == 0 and _MULTIWORD_OPENERS.match(chunk, s):
            return 0
        word = chunk[s:e]
        if word[0] in "\"“":
            return k
        if _is_titleword(word):
            continue
        # the first lowercase content word: the sentence began at an opener just before, or at the last
        # capitalised word before it
        for back in range(max(0, k - 3), k):
            if chunk[words[back][0]:words[back][1]] in _OPENERS:
                return back
        return k - 1 if k >= 1 else None
    return None


def _tag_list_end(chunk: str, start: int, limit: int) -> int:
    """The end of a tag list ("Tags Syria Aleppo UN siege ...") that runs into the next sentence.

    Tags are names and nouns, a sentence has verbs and function words: the
    sentence starts at the first opener ("The", "At least", "A rebel") or else
    at the capitalised word nearest before its first function word.
    """
    words = _words(chunk, start, limit)
    texts = [chunk[s:e] for s, e in words]
    best = limit
    for k in range(2, len(words)):
        if texts[k] in _SENTENCE_WORDS:
            for back in range(k - 1, 0, -1):
                if texts[back][0].isupper() or texts[back][0] in "\"“":
                    best = words[back][0]
                    break
            break
    for k in range(1, len(words)):
        if words[k][0] >= best:
            break
        word = texts[k]
        if word[0] in "\"“":
            return words[k][0]
        nxt = texts[k + 1] if k + 1 < len(texts) else ""
        if _MULTIWORD_OPENERS.match(chunk, words[k][0]) or (
                word in _OPENERS and (word not in _OPENERS_BEFORE_LOWER or nxt[:1].islower() or nxt[:1].isdigit())
                and any(w in _SENTENCE_WORDS for w in texts[k + 1:k + 7])):
            return words[k][0]
    return best


def _teaser_end(chunk: str, start: int, limit: int) -> int:
    """The end of a title-case teaser ("Read more: X Y Z ..."): where a sentence starts, else ``limit``."""
    words = _words(chunk, start, limit)
    k = _sentence_start_in(chunk, words)
    if k is None or k < 2:
        return limit if k is None else start
    return words[k][0]


def _date_header_at(chunk: str, pos: int, line_start: bool) -> int | None:
    """End of a date line starting at ``pos``, or None.

    At the start of a line or after other furniture any date counts; inside a
    line only a date with a weekday, in numbers, or with "Published ..."
    counts, and only where no preposition makes it part of a sentence.
    """
    m = _DATE_HEADER.match(chunk, pos)
    if not m:
        return None
    if not line_start:
        if not (m.group("prefix") or m.group("weekday") or m.group("numeric") or m.group("hhmm")):
            return None
        if _DATE_IN_SENTENCE.search(chunk, max(0, pos - 12), pos) or chunk[max(0, pos - 3):pos].rstrip().endswith(","):
            return None
        if chunk[m.end():m.end() + 1] in (".", ","):  # "..., Syria, Monday March 20, 2017." ends a sentence
            return None
    after = chunk[m.end():m.end() + 2]
    if after[:1].isalnum() and not after[:1].isupper():  # "2016Get short URL" is fine, "2016in" is not
        return None
    if after[:1] == " " and after[1:2].islower():
        return None
    return m.end()


def _furniture_spans(chunk: str) -> list[tuple[int, int]]:
    """Spans of page furniture in one line (chunk coordinates), sorted and disjoint."""
    found = []
    for m in _FURNITURE.finditer(chunk):
        s, e = m.start(), m.end()
        while s < e and chunk[s].isspace():
            s += 1
        found.append((s, e))
    spans: list[tuple[int, int]] = []
    for k, (s, e) in enumerate(found):
        if spans and s < spans[-1][1]:
            continue
        limit = found[k + 1][0] if k + 1 < len(found) else len(chunk)
        head = chunk[s:e]
        if head.startswith("Tag"):
            e = _tag_list_end(chunk, e, min(limit, e + _TAG_LIST_CHARS))
        elif head.lower().startswith(("read", "check also", "see also", "also read")):
            e = _teaser_end(chunk, e, min(limit, e + 300))
        spans.append((s, e))
    # dates inside a line ("... Monitor AFP Tuesday 23 Sep 2014 US ...")
    dates = []
    for m in _DATE_START.finditer(chunk):
        if dates and m.start() < dates[-1][1]:
            continue
        end = _date_header_at(chunk, m.start(), m.start() == 0)
        if end is not None:
            dates.append((m.start(), end))
    spans = _union(spans, dates)
    spans = _trim_sources(chunk, spans)
    spans = _add_weak(chunk, spans)
    return spans


def _union(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted disjoint spans of ``a`` and ``b``; where two overlap the earlier (then longer) wins."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(a + b, key=lambda x: (x[0], -x[1])):
        if out and s < out[-1][1]:
            continue
        out.append((s, e))
    return out


def _trim_sources(chunk: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A "Source X" credit runs to the next furniture or the line's end, a few words at most; else it is no credit."""
    out = []
    for k, (s, e) in enumerate(spans):
        if chunk.startswith(("Source", "(Source"), s):
            nxt = spans[k + 1][0] if k + 1 < len(spans) else len(chunk)
            if chunk[s] == "(":
                close = chunk.find(")", e, nxt)
                if close < 0:
                    continue
                out.append((s, close + 1))
                continue
            words = _words(chunk, e, nxt)
            if not words or len(words) > _SOURCE_WORDS or re.search(r"[.!?]\s", chunk[e:nxt]):
                continue
            e = words[-1][1]
        out.append((s, e))
    return out


def _without_overlaps(items: list[tuple[int, int]], blockers: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``items`` (sorted) minus those overlapping any of ``blockers`` (sorted, disjoint), in one sweep."""
    out = []
    j = 0
    for s, e in items:
        while j < len(blockers) and blockers[j][1] <= s:
            j += 1
        if j < len(blockers) and blockers[j][0] < e:
            continue
        out.append((s, e))
    return out


def _add_weak(chunk: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Weak furniture words join the furniture they stand next to, in both directions."""
    if not spans:
        return spans
    weak = [(m.start(), m.end()) for m in _WEAK_FURNITURE.finditer(chunk)]
    weak = _without_overlaps(weak, spans)
    if not weak:
        return spans
    items = _union(spans, weak)
    strong = set(spans)
    accepted = [x in strong for x in items]
    for order in (range(len(items)), range(len(items) - 1, -1, -1)):
        for k in order:
            if accepted[k]:
                continue
            for j in (k - 1, k + 1):
                if 0 <= j < len(items) and accepted[j]:
                    lo, hi = (items[j][1], items[k][0]) if j < k else (items[k][1], items[j][0])
                    if not chunk[lo:hi].strip():
                        accepted[k] = True
                        break
    return [x for x, ok in zip(items, accepted) if ok]


def _title_span(text: str, meta: dict | None) -> tuple[int, int] | None:
    """Where the document's known headline (``meta['title']``) stands in its opening, if it does.

    Titles often carry the site's name ("X - Region - World - Ahram Online",
    "X | Jordan Times"): the longest part before such a separator that the
    text holds counts.
    """
    title = meta.get("title") if meta else None
    if not isinstance(title, str):
        return None
    title = " ".join(title.split())
    head = text[:3000]
    cuts = [m.start() for m in re.finditer(r"\s+(?:[-–—|•]|::)\s+", title)]
    for candidate in [title] + [title[:c] for c in reversed(cuts)]:
        if len(candidate.split()) < 3:
            continue
        at = head.find(candidate)
        if at < 0:
            continue
        end = at + len(candidate)
        if (at == 0 or not head[at - 1].isalnum()) and (end >= len(text) or not text[end].isalnum()):
            tail = re.compile(r"[ \t]*[.!?:;]+").match(text, end)
            return at, tail.end() if tail else _lost_title_words(text, end)
    return None


#: A title field that lost the headline's last word or two ("... kills six Syrian state" for "... Syrian state
#: TV"): the words before the first sentence's opener ("TV A bomb blast killed ...").
_LOST_TITLE_WORDS = re.compile(r"[ \t]+((?!(?:" + _WIRES + r")\b)[A-Z][\w'-]*)(?:[ \t]+([A-Z][\w'-]*))?(?=[ \t]+\S)")


def _lost_title_words(text: str, end: int) -> int:
    """Where the headline really ends: after words the title field lost, when a sentence opener follows them."""
    m = _LOST_TITLE_WORDS.match(text, end)
    if not m:
        return end
    for group in (1, 2):
        if m.group(group) is None or m.group(group) in _OPENERS:
            return end
        after = _words(text, m.end(group), min(len(text), m.end(group) + 60))[:2]
        if len(after) == 2 and _opens_sentence(text[after[0][0]:after[0][1]], text[after[1][0]:after[1][1]]):
            return m.end(group)
    return end


def _opens_sentence(word: str, nxt: str) -> bool:
    """Does ``word`` open a sentence, judged with the word after it ("A bomb", "The army", not "A Day")?"""
    if word not in _OPENERS:
        return False
    return word not in _OPENERS_BEFORE_LOWER or nxt[:1].islower() or nxt[:1].isdigit()


# --------------------------------------------------------------------------------------------
# Quotations (rule 3a.4)
# --------------------------------------------------------------------------------------------

_OPEN_QUOTES = "“\"„«‘'”"
_CLOSE_QUOTES = "”\"»’'“"
_QUOTE_CHARS = "“”\"„«»"


_QUOTE_MARK = re.compile("[“”\"„«»]")


def _quote_events(text: str, start: int, end: int) -> list[tuple[int, bool]]:
    """(offset, opens) for each quotation mark in ``text[start:end]``, its direction read from its neighbours."""
    events = []
    for m in _QUOTE_MARK.finditer(text, start, end):
        found = m.start()
        before = text[found - 1] if found > start else " "
        after = text[found + 1] if found + 1 < end else " "
        mark = text[found]
        if mark in "“„«":
            opens = True
        elif mark == "»":
            opens = False
        elif before.isspace() or before in "([{—–-":
            opens = not after.isspace()  # also a mistyped opening ” ("”They’re ...")
        else:
            opens = False
        events.append((found, opens))
    return events


def _pair_quotes(events: list[tuple[int, bool]]) -> dict[int, int]:
    """Each opening quote's offset mapped to its closing quote's; stray marks stay unpaired."""
    pairs: dict[int, int] = {}
    open_at: int | None = None
    for pos, opens in events:
        if opens:
            open_at = pos  # an unclosed earlier quote is stray
        elif open_at is not None:
            pairs[open_at] = pos
            open_at = None
    return pairs


def _continues_quote(sentence: str) -> bool:
    """Guide rule 3a.4: a sentence that is only a quotation continues the quoted sentence before it."""
    s = sentence.rstrip(".,;:!? ")
    return (
        len(s) > 1
        and s[0] in _OPEN_QUOTES
        and s[-1] in _CLOSE_QUOTES
        and s[1:-1].count("“") == 0
        and s[1:-1].count('"') == 0
    )


def _join_quotations(text: str, spans: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """Join sentences per rule 3a.4.

    * A quotation opened inside a sentence ("Nashir reported that “... . ...”")
      stays with that sentence until it closes; so does a quotation signed
      after its closing mark ("“... . ...” — Name").
    * A quotation that opens a sentence and runs over several: each sentence
      is a passage, except that the one before the sentence carrying the
      attribution ("... . ... war crime" he said") joins it.
    * A quotation whose closing mark lost its comma ("... civilians" the
      director said.) continues into its attribution.
    * A sentence that is only a quotation continues the previous one's.
    """
    if not spans:
        return spans
    events = _quote_events(text, start, end)
    if not events:
        return spans
    pairs = _pair_quotes(events)
    closes = set(pairs.values())
    positions = [p for p, _ in events]
    merged: list[tuple[int, int]] = []
    open_quote: tuple[int, int, bool] | None = None  # (open offset, close offset, embedded)
    for s, e in spans:
        join = False
        if merged:
            ps, pe = merged[-1]
            prev_quoted = _has_event(positions, ps, pe)
            if open_quote is not None and open_quote[0] < s:
                _, close, embedded = open_quote
                if embedded:
                    join = True
                elif s <= close < e:
                    tail = text[close + 1:e]
                    join = any(ch.isalpha() for ch in tail) and text[close - 1] not in ".!?"
            else:
                prev = text[max(ps, pe - _TAIL):pe]
                lost = _lost_opening(events, closes, s, e)
                if lost is not None and text[lost - 1] not in ".!?" and any(ch.isalpha() for ch in text[lost + 1:e]) \
                        and not prev_quoted:
                    join = True  # "... . The number ... continues" a healthcare worker told RIA Novosti."
                elif (prev[-1:] in "\"”" and pe - ps > 1 and (prev[-2:-1].isalnum() or prev[-2:-1] == ",")
                        and text[s] not in _QUOTE_CHARS and _closes_at(events, pe - 1)):
                    join = True
                elif prev_quoted and _continues_quote(text[s:e]):
                    join = True
        if join:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
        open_quote = _open_after(events, pairs, positions, merged[-1][0], s, e, open_quote, text)
    return merged


def _has_event(positions: list[int], start: int, end: int) -> bool:
    """Is there a quotation mark in ``[start, end)``?"""
    k = bisect_left(positions, start)
    return k < len(positions) and positions[k] < end


def _lost_opening(events: list[tuple[int, bool]], closes: set[int], start: int, end: int) -> int | None:
    """A closing mark in ``[start, end)`` that no opening mark pairs with, or None."""
    k = bisect_left(events, (start, False))
    while k < len(events) and events[k][0] < end:
        pos, opens = events[k]
        if not opens and pos not in closes:
            return pos
        k += 1
    return None


def _closes_at(events: list[tuple[int, bool]], pos: int) -> bool:
    k = bisect_left(events, (pos, False))
    return k < len(events) and events[k][0] == pos and not events[k][1]


def _open_after(events: list[tuple[int, bool]], pairs: dict[int, int], positions: list[int], sentence_start: int,
                piece_start: int, end: int, current: tuple[int, int, bool] | None,
                text: str) -> tuple[int, int, bool] | None:
    """The quotation still open after ``end``: (open offset, close offset, embedded) or None.

    ``current`` is the one open before the piece ``[piece_start, end)`` that
    just joined the sentence starting at ``sentence_start``; only the piece's
    own marks are looked at.
    """
    if current is not None and current[1] >= end:
        return current
    k = bisect_left(positions, end) - 1
    while k >= 0 and positions[k] >= piece_start:
        pos, opens = events[k]
        if opens:
            close = pairs.get(pos)
            if close is None or close < end:
                return None
            embedded = pos != sentence_start  # sentences are stripped: the quotation opens inside it
            signed = text[close + 1:close + 4].lstrip()[:1] in ("-", "–", "—")
            return (pos, close, embedded or signed)
        k -= 1
    return None


# --------------------------------------------------------------------------------------------
# Sentence rules
# --------------------------------------------------------------------------------------------


def _merge(text: str, spans: list[tuple[int, int]], joins: Callable[[str, str, int], bool]) -> list[tuple[int, int]]:
    """Join each span to the one before it when ``joins(previous_tail, text, start)`` says so.

    The previous span is passed as its last few characters only: spans grow as
    they join, and copying them whole at each step would make this quadratic.
    """
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and joins(text[max(merged[-1][0], merged[-1][1] - _TAIL) : merged[-1][1]], text[s:e], s):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


#: Characters of a previous sentence the join rules look at.
_TAIL = 8


def _strip(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _lost_boundaries(text: str, s: int, e: int, run_on: bool = True) -> list[int]:
    """Offsets inside one sentence where a sentence (or heading, dateline, credit) boundary was lost.

    Datelines, photo credits, video titles and tweet signatures are cut
    everywhere; the rest only in run-on text (``run_on``), where a lost line
    break or full stop is the likely reason for what they see.
    """
    cuts: list[int] = []
    m = _DATELINE.match(text, s, e)
    if m and len(text[m.end():e].split()) >= _DATELINE_SENTENCE_WORDS:
        cuts.append(m.end())  # a dateline opens a sentence; "HAURAN REVIEW — Southern Syria, in depth" is a heading
    m = _PHOTO_CREDIT.match(text, s, e)
    if m:
        rest = _words(text, m.end(), e)
        k = _sentence_start_in(text, rest)
        if k is not None and k >= _TEASER_WORDS:
            cuts += [m.end(), rest[k][0]]  # "REUTERS Rodi Said | US Tanks to Storm Raqqa ... | MOSCOW ..."
        elif k is not None and k >= 1:
            cuts.append(rest[k][0])  # "Sputnik Yazan Kalash Explosion in Damascus | Reuters reported ..."
        elif k is None and rest:
            cuts.append(m.end())  # "REUTERS Rodi Said | Middle East"
    for m in _YOUTUBE.finditer(text, s, e):
        cuts.append(m.end())
    for m in _TWEET_END.finditer(text, s, e):
        cuts.append(m.end())
    if not run_on:
        return sorted(set(c for c in cuts if s < c < e))
    for m in _DATELINE_INSIDE.finditer(text, s, e):
        cuts += [m.start(), m.end()]  # "... Takes Shape MOSCOW (Sputnik) The coalition ..."
    for m in _CAPS_PLACE_AFTER_NOTE.finditer(text, s, e):
        cuts += [m.start(), m.end()]  # "... (AFP photo) BEIRUT Thirteen civilians ..."
    # a sentence opener glued to the words before it
    words = _words(text, s, e)
    for k in range(1, len(words)):
        ws, we = words[k]
        word = text[ws:we]
        if not word[0].isupper():
            continue
        prev = text[words[k - 1][0]:words[k - 1][1]]
        if prev.lower().strip("\"“”'(") in _NO_CUT_AFTER or not (prev[-1].isalnum() or prev[-1] in ")]\"”"):
            continue
        if prev[-1].isupper() and prev.isupper() and len(prev) > 1 and word in ("A", "I"):
            continue
        nxt = text[words[k + 1][0]:words[k + 1][1]] if k + 1 < len(words) else ""
        if word in _OPENERS:
            before_lower = nxt[:1].islower() or nxt[:1].isdigit() or (
                word in ("On", "In", "After", "Over") and _TIME_WORD.fullmatch(nxt.rstrip(".,")) is not None)
            if word in ("A", "An") and re.fullmatch(r"[A-Z]+-[a-z]+\w*", nxt):
                before_lower = True  # "A US-led coalition"
            if word in _OPENERS_BEFORE_LOWER and not before_lower:
                if not (word in ("A", "An") and prev[:1].islower() and nxt[:1].isupper()):
                    continue  # "... no choice A Madaya resident said": a heading before a sentence
            if (word in _COUNT_OPENERS and nxt.lower() in _TITLE_SMALL and prev[:1].isupper() and k >= 2
                    and text[words[k - 2][0]:words[k - 2][0] + 1].isupper()):
                continue  # "Syrian Forces Deny Killing Dozens of Civilians": inside a title-case headline
            if _PHOTO_CREDIT.fullmatch(text, s, words[k - 1][1]):
                continue  # "REUTERS Hosam Katan A rebel fighter ...": a caption after its credit
            if k <= 2 and re.match(r"[\[(]?\d{1,3}[\]).]", text[s:ws]):
                continue  # "[1] UPDATE The ...": a note's number and its tag
            cuts.append(ws)
        elif _MULTIWORD_OPENERS.match(text, ws, e):
            cuts.append(ws)
        elif re.fullmatch(r"\[[A-Za-z][^\]]*\]", prev) and nxt[:1].islower():
            cuts.append(ws)  # "... in Aleppo [Anadolu] Residents in Aleppo said ..."
    return sorted(set(c for c in cuts if s < c < e))


def _cut(spans: list[tuple[int, int]], text: str, rule: Callable[[str, int, int], list[int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in spans:
        at = s
        for c in rule(text, s, e):
            piece = _strip(text, at, c)
            if piece[0] < piece[1]:
                out.append(piece)
            at = c
        piece = _strip(text, at, e)
        if piece[0] < piece[1]:
            out.append(piece)
    return out


def _move_caption_credits(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A credit ("REUTERS/Stringer") that pysbd put at the start of the next sentence ends its caption (rule 3a.9)."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        m = _CAPTION_CREDIT.match(text, s, e)
        if out and m:
            out[-1] = (out[-1][0], m.end())
            s = m.end()
            s, e = _strip(text, s, e)
            if s >= e:
                continue
        out.append((s, e))
    return out


def _joins_previous(prev: str, cur: str) -> bool:
    """Pieces that belong to the sentence before them: punctuation, a caption's date or photo note,
    a block quote's signature, a sentence pysbd cut after an ellipsis."""
    if not any(ch.isalnum() for ch in cur):
        return True
    if prev.endswith(".") and _PLAIN_DATE.fullmatch(cur):
        return True
    if _PHOTO_NOTE.fullmatch(cur):
        return True
    if cur.startswith("pic.twitter.com") or _TWEET_SIGNATURE.fullmatch(cur):
        return True  # an embedded tweet's signature ends the tweet
    if prev.endswith(("...", "…")) and cur[:1].islower():
        return True
    if cur[:1] in "-–—" and (len(cur.split()) >= 5 or prev[-1:] in "”\"»"):
        return True  # a quotation's signature: "“...” — Rula Hamdan"
    return False


#: A line this long holds several of the original lines (or the whole article, as FA-KES ships it):
#: page furniture and lost sentence boundaries are looked for only in such lines. A shorter line is
#: one line of the page already, cut per sentence as it stands.
_RUN_ON_CHARS = 300
#: pysbd runs one substitution over its whole input for each abbreviation it meets, so its time grows
#: with the square of the input's length; longer text goes to it in windows of about this many characters,
#: cut where a sentence certainly ends.
_PYSBD_WINDOW = 2000
#: A sure sentence end: a full stop after a lowercase word of three letters or more, then a capital.
_SURE_END = re.compile(r"(?<=[a-z]{3}[.!?])[\"”]?\s+(?=[\"“]?[A-Z])")


def _windows(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """``[start, end)`` in windows of at most about ``_PYSBD_WINDOW`` characters, cut at sure sentence ends
    (or, in text without any, at a space after twice that length)."""
    while end - start > _PYSBD_WINDOW:
        cut = None
        for m in _SURE_END.finditer(text, start + _PYSBD_WINDOW // 4, start + _PYSBD_WINDOW):
            cut = m.end()
        if cut is None:
            space = text.rfind(" ", start + _PYSBD_WINDOW, start + 2 * _PYSBD_WINDOW)
            cut = space + 1 if space > start else None
        if cut is None or cut >= end:
            break
        yield start, cut
        start = cut
    yield start, end


def _pysbd_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """pysbd's sentences of ``text[start:end]`` as document offsets; text it skipped joins the last one.

    pysbd never splits inside what it takes for a quotation, and scraped text
    pairs its quotation marks wrongly (a lost closing mark glues a paragraph
    into one "quotation"), so pysbd sees the text with its double quotation
    marks blanked out; :func:`_join_quotations` joins quoted sentences by the
    guide's rule instead. Each sentence gets back the marks at its edges.
    """
    spans: list[tuple[int, int]] = []
    for w_start, w_end in _windows(text, start, end):
        chunk = _QUOTE_MARK.sub(" ", text[w_start:w_end])
        found_all: list[tuple[int, int]] = []
        cursor = 0
        for sentence in pysbd_patterns.sentences(_splitter(), chunk):
            piece = sentence.strip()
            if not piece:
                continue
            found = chunk.find(piece, cursor)
            if found < 0:  # pysbd altered the text: keep the rest of the window whole
                found_all.append((w_start + cursor, w_end))
                break
            found_all.append((w_start + found, w_start + found + len(piece)))
            cursor = found + len(piece)
        if found_all and found_all[-1][1] < w_end and text[found_all[-1][1]:w_end].strip():
            found_all[-1] = (found_all[-1][0], w_end)
        spans.extend(found_all)
    out: list[tuple[int, int]] = []
    for k, (s, e) in enumerate(spans):
        low = out[-1][1] if out else start
        high = spans[k + 1][0] if k + 1 < len(spans) else end
        while s > low and text[s - 1] in _QUOTE_CHARS:
            s -= 1
        while e < high and text[e] in _QUOTE_CHARS:
            e += 1
        out.append(_strip(text, s, e))
    return out


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` in document offsets (see :func:`_sentences`)."""
    return _sentences(text, start, end, end - start >= _RUN_ON_CHARS)


def _sentences(text: str, start: int, end: int, run_on: bool) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` in document offsets.

    pysbd splits; then pieces that belong to the sentence before them join it
    (punctuation, a caption's date, credit or photo note), lost boundaries are
    cut (a sentence opener glued to the words before it, a dateline, a photo
    credit and its teaser headline) and quotations are joined per rule 3a.4.
    """
    spans = []
    at = start
    for m in _SLASH_DATELINE.finditer(text, start, end):  # rule 3a.10: a dateline is a passage of its own
        if at < m.start():
            spans += _pysbd_spans(text, at, m.start())
        spans.append(_strip(text, m.start(), m.end()))
        at = m.end()
    if at < end:
        spans += _pysbd_spans(text, at, end)
    spans = [(s, e) for s, e in spans if s < e]
    spans = [_strip(text, s, e) for s, e in spans]
    spans = [(s, e) for s, e in spans if s < e]
    spans = _move_caption_credits(text, spans)
    spans = _merge(text, spans, lambda prev, cur, _start: _joins_previous(prev, cur))
    spans = _cut(spans, text, lambda t, a, b: _lost_boundaries(t, a, b, run_on))
    spans = _merge(text, spans, lambda _prev, cur, _start: bool(_TWEET_SIGNATURE.fullmatch(cur)))
    spans = _join_quotations(text, spans, start, end)
    return spans or [(start, end)]


# --------------------------------------------------------------------------------------------
# Lines
# --------------------------------------------------------------------------------------------


def _line_pieces(text: str, start: int, end: int, cuts: list[int],
                 whole: tuple[int, int] | None = None, run_on: bool = True) -> list[tuple[int, int, bool]]:
    """A body line cut into (start, end, is_furniture) pieces: furniture, and the text between it.

    ``cuts`` are offsets where a piece must end (the headline's ends); the
    piece ``whole`` (the headline) is kept whole like furniture.
    """
    chunk = text[start:end]
    furniture = _furniture_spans(chunk) if run_on else []
    inner = sorted({c - start for c in cuts if start < c < end})
    # a headline cut that would leave a word or two before the next furniture: the words are the headline's
    inner = [c for c in inner if not _orphan_after(chunk, c, furniture)]
    tabs = [m.start() for m in re.finditer(r"\s*\t\s*", chunk)]
    inner = sorted(set(inner + tabs))
    # furniture ends at a cut ("Posted on ... by Name | Headline")
    furniture = _clip(furniture, inner)
    if run_on:
        furniture = _headers_and_credits(chunk, furniture, inner)
    return _pieces(text, start, chunk, furniture, inner, whole)


def _headers_and_credits(chunk: str, furniture: list[tuple[int, int]], inner: list[int]) -> list[tuple[int, int]]:
    """Furniture that other furniture or a cut reveals: a date line, a share counter, a wire agency's name."""
    # a date line also counts at a cut (after the headline) and right after other furniture
    extra = []
    for at in inner + [e for _, e in furniture]:
        while at < len(chunk) and chunk[at].isspace():
            at += 1
        date_end = _date_header_at(chunk, at, True) if at < len(chunk) else None
        if date_end is not None:
            extra.append((at, date_end))
    furniture = _clip(_union(furniture, extra), inner)
    # counters after "Get short URL" and topic lines; a wire agency's name before a date line or after furniture
    extra = []
    for s, e in furniture:
        if chunk[s:e].endswith(("URL", ")")):
            m = _COUNTER.match(chunk, e)
            if m:
                extra.append((e + len(m.group()) - len(m.group().lstrip()), m.end()))
        m = _AGENCY_BEFORE.search(chunk, max(0, s - 16), s)
        if m:
            extra.append((m.start(1), m.end(1)))
        m = _AGENCY_AFTER.match(chunk, e)
        if m:
            extra.append((m.start(1), m.end(1)))
    for c in inner:
        m = _AGENCY_AFTER.match(chunk, c)
        if m:
            extra.append((m.start(1), m.end(1)))
    return _clip(_union(furniture, extra), inner)


def _pieces(text: str, start: int, chunk: str, furniture: list[tuple[int, int]], inner: list[int],
            whole: tuple[int, int] | None) -> list[tuple[int, int, bool]]:
    """Furniture spans and the text between them, all cut at the cut points, in document offsets."""
    bounds: list[tuple[int, int, bool]] = []
    at = 0
    for s, e in furniture + [(len(chunk), len(chunk))]:
        if at < s:
            bounds.append((at, s, False))
        if s < e:
            bounds.append((s, e, True))
        at = max(at, e)
    pieces: list[tuple[int, int, bool]] = []
    k = 0
    for s, e, is_furniture in bounds:
        while k < len(inner) and inner[k] <= s:
            k += 1
        j = k
        at = s
        while j < len(inner) and inner[j] < e:
            pieces.append((at, inner[j], is_furniture))
            at = inner[j]
            j += 1
        pieces.append((at, e, is_furniture))
    out = []
    for s, e, is_furniture in pieces:
        s, e = _strip(text, start + s, start + e)
        if s < e:
            out.append((s, e, is_furniture or (whole is not None and whole[0] <= s and e <= whole[1])))
    return out


_AGENCY_BEFORE = re.compile(rf"(?<![\w-])({_WIRES})\s+$")
_AGENCY_AFTER = re.compile(rf"\s+({_WIRES})(?=\s+[A-Z\"“]|\s*$)"
                           r"(?!\s+(?:[A-Z][\w.'-]*|al-[A-Z][\w'-]*)\s+(?:[A-Z][\w.'-]*|al-[A-Z][\w'-]*)(?:\s|$))")


def _orphan_after(chunk: str, cut: int, furniture: list[tuple[int, int]]) -> bool:
    """Would a cut leave at most two words, without a sentence end, before the next furniture?

    Such words finish the headline ("20 dead in ... Aleppo | NGO | AFP | Monday
    16 Jun 2014"): the title field lost them, they are no passage of their own.
    """
    k = bisect_left(furniture, (cut, cut))
    if k >= len(furniture):
        return False
    gap = chunk[cut:furniture[k][0]]
    return 0 < len(gap.split()) <= 2 and not re.search(r"[.!?]", gap)


def _clip(spans: list[tuple[int, int]], cuts: list[int]) -> list[tuple[int, int]]:
    """Spans shortened to end at the first cut inside them; what follows the cut is text again."""
    out = []
    for s, e in spans:
        k = bisect_left(cuts, s + 1)
        if k < len(cuts) and cuts[k] < e:
            e = cuts[k]
        out.append((s, e))
    return out


_BYLINE = re.compile(r"By\s+(?=[A-Z])")


def _byline_end(text: str, start: int, end: int) -> int | None:
    """End of a byline ("By Jane Roe") that runs into the first sentence, or None.

    The name is the capitalised words before the word where a sentence takes
    over ("By Jane Roe | The army said ..."); "By Monday the army ..." is no byline.
    """
    m = _BYLINE.match(text, start, end)
    if not m:
        return None
    words = _words(text, m.end(), min(end, m.end() + 120))[:8]
    k = _sentence_start_in(text, words)
    if k is None or not 2 <= k <= 4:
        return None
    name = [text[a:b] for a, b in words[:k]]
    if any(not w[0].isupper() or _TIME_WORD.fullmatch(w) for w in name):
        return None
    return words[k - 1][1]


def _split_line(text: str, start: int, end: int, title: tuple[int, int] | None = None) -> list[tuple[int, int]]:
    """Passages of one body line: its furniture, and the sentences of the text between."""
    spans: list[tuple[int, int]] = []
    after_furniture = True
    list_marker = False
    run_on = end - start >= _RUN_ON_CHARS
    for s, e, is_furniture in _line_pieces(text, start, end, list(title) if title else [], title, run_on):
        if is_furniture:
            spans.append((s, e))
        else:
            if after_furniture and run_on:
                byline = _byline_end(text, s, e)
                if byline is not None:
                    spans.append((s, byline))
                    s, e = _strip(text, byline, e)
                    if s >= e:
                        continue
                m = _CAPS_PLACE.match(text, s, e)
                if m and (" ".join(m.group().split()) in _DATELINE_CITIES
                          or _sentence_start_in(text, _words(text, m.end(), min(e, m.end() + 80))[:6]) == 0):
                    spans.append((s, m.end()))
                    s, e = _strip(text, m.end(), e)
                    if s >= e:
                        continue
            pieces = _sentences(text, s, e, run_on)
            if run_on and list_marker:
                pieces = _headline_list(text, pieces)
            spans.extend(pieces)
        after_furniture = is_furniture
        list_marker = is_furniture and LIST_MARKER.fullmatch(text, s, e) is not None
    return spans


def _headline_list(text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The sentences after a "Related" marker with its list of headlines cut one a passage (guide section 1:
    one passage per line).

    The list is the leading pieces without a full stop, and the first one
    with a full stop (its sentence closes the list), within a bounded reach.
    """
    out: list[tuple[int, int]] = []
    for k, (s, e) in enumerate(pieces):
        if e - pieces[0][0] > LIST_CHARS:  # no list runs this long: the cuts are searched in bounded text only
            return out + pieces[k:]
        ends_in_sentence = text[e - 1] in SENTENCE_END_CHARS
        at = s
        for cut in split_headline_list(text, s, e, ends_in_sentence):
            out.append(_strip(text, at, cut))
            at = cut
        out.append(_strip(text, at, e))
        if ends_in_sentence:
            return out + pieces[k + 1:]
    return out


def segment_text(text: str, meta: dict | None = None) -> list[Passage]:
    """Label-less passages with ``section`` set, sorted and non-overlapping."""
    lines = list(iter_lines(text))
    comment_start = find_comment_start(text, lines, meta)
    title = _title_span(text, meta)
    passages: list[Passage] = []
    for line in lines:
        in_comments = comment_start is not None and line.end > comment_start
        if in_comments:
            spans = [(line.start, line.end)]
        else:
            spans = _split_line(text, line.start, line.end, title)
        section = "comments" if in_comments else "body"
        passages.extend(Passage(s, e, extra={"section": section}) for s, e in spans)
    return passages


def segment(doc: Document) -> Document:
    """Return the document with its passages replaced by the segmenter's."""
    doc.passages = segment_text(doc.text, doc.meta)
    return doc


def mark_sections(doc: Document) -> Document:
    """A copy of the document whose passages all carry a ``section`` flag, from the detected comment section.

    Gold and corpus passages are cut by hand and carry no flag; the model needs
    the same flag at training time as the segmenter gives at prediction time.
    The caller's document is left untouched: use the returned copy (its
    passages, meta and extra are copies too, so changing them changes nothing
    in the original).
    """
    comment_start: int | None = None
    if any(not p.section for p in doc.passages):
        comment_start = find_comment_start(doc.text, list(iter_lines(doc.text)), doc.meta)
    passages = []
    for p in doc.passages:
        extra = dict(p.extra)
        if not p.section:
            extra["section"] = "comments" if comment_start is not None and p.end > comment_start else "body"
        passages.append(replace(p, sources=[replace(m, extra=dict(m.extra)) for m in p.sources],
                                probs=dict(p.probs) if p.probs is not None else None, extra=extra))
    return replace(doc, meta=dict(doc.meta), passages=passages, extra=dict(doc.extra))
