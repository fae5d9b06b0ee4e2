"""The labelling instructions a sourcemark project shows before labelling, built from the guide.

Label Studio shows a project's ``expert_instruction`` (HTML) when an
annotator opens the labelling screen (``show_instruction``) and under the
"Instructions" button. Annotators need the definitions at hand, not a
paraphrase that drifts from the guide, so the role and source-type tables
are read from docs/ANNOTATION_GUIDE.md (sections 2 and 3) of the checkout
sourcemark runs from. Without the guide (an installed wheel ships no docs),
the roles come from ``sourcemark.labels.ROLE_DESCRIPTIONS`` and the source
types are listed by id: still correct, only shorter.

The link to the full guide is ``$SOURCEMARK_GUIDE_URL`` when set (where the
team reads it: a wiki, the repository), else the guide's ``file://`` path,
which a browser opens only on the machine that holds the checkout.
"""

from __future__ import annotations

import os
import re
from html import escape
from pathlib import Path

from sourcemark.annotation.config import source_label
from sourcemark.labels import ROLE_DESCRIPTIONS, ROLES, SOURCE_TYPES

GUIDE_PATH = Path(__file__).resolve().parents[1] / "docs" / "ANNOTATION_GUIDE.md"
GUIDE_URL_ENV = "SOURCEMARK_GUIDE_URL"
#: The guide's sections whose first table defines the labels.
ROLE_SECTION, SOURCE_SECTION = "## 2.", "## 3."

_CODE = re.compile(r"`([^`]+)`")


def guide_url() -> str:
    """Where the instructions' link to the full guide points."""
    return os.environ.get(GUIDE_URL_ENV) or GUIDE_PATH.as_uri()


def guide_table(guide: str, section: str) -> tuple[list[str], dict[str, list[str]]]:
    """The header and ``id -> other cells`` of the first table in the guide section starting with ``section``.

    A row is ``| `id` | definition | cues or examples |``; the header is the
    first row of the table, the separator row is skipped.
    """
    lines = guide.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(section)), None)
    if start is None:
        return [], {}
    header: list[str] = []
    rows: dict[str, list[str]] = {}
    for line in lines[start + 1:]:
        if line.startswith("## ") or (header and not line.startswith("|")):
            break  # the section or the table ended
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not header:
            header = cells
        elif re.fullmatch(r"`[a-z_]+`", cells[0]):
            rows[cells[0].strip("`")] = cells[1:]
    return header, rows


def _cell(markdown: str) -> str:
    """A guide table cell as HTML: escaped, with `code` spans kept."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", escape(markdown, quote=False))


def _table(header: list[str], rows: list[tuple[str, list[str]]]) -> str:
    head = "".join(f'<th align="left">{escape(h)}</th>' for h in header)
    body = "".join(f"<tr><td><b>{escape(label)}</b></td>{''.join(f'<td>{_cell(c)}</td>' for c in cells)}</tr>"
                   for label, cells in rows)
    return f'<table border="1" cellpadding="4" style="border-collapse: collapse"><tr>{head}</tr>{body}</table>'


def instructions_html(guide_path: Path = GUIDE_PATH) -> str:
    """The project's labelling instructions: role and source-type definitions, scores, the guide's link."""
    try:
        guide = guide_path.read_text(encoding="utf-8")
    except OSError:
        guide = ""
    role_header, roles = guide_table(guide, ROLE_SECTION)
    source_header, sources = guide_table(guide, SOURCE_SECTION)
    if not roles:
        role_header = ["role", "meaning"]
    if not sources:
        source_header = ["type", "what"]
    role_rows = [(r, roles.get(r) or [ROLE_DESCRIPTIONS.get(r, "")]) for r in ROLES]
    source_rows = [(source_label(t), sources.get(t) or ["see the guide"]) for t in SOURCE_TYPES]
    return "".join([
        "<h3>Passage roles and attributed sources</h3>",
        f'<p>Full rules and worked examples: <a href="{escape(guide_url())}" target="_blank">the annotation '
        "guide</a> (docs/ANNOTATION_GUIDE.md). Give every passage exactly one role; mark every source "
        "mention (the shortest span naming the source) with its type.</p>",
        "<h4>Roles (one per passage)</h4>",
        _table(role_header, role_rows),
        "<h4>Source types (a mention's label is its type)</h4>",
        _table(source_header, source_rows),
        "<p>The source type <code>other</code> of the guide is the label <code>other_source</code> here.</p>",
        "<h4>Start with the least certain</h4>",
        "<p>The text shows each region's label after it. The <b>Regions</b> list beside the text shows "
        "each predicted region's score (0 to 1, the model's confidence); its <b>Order by Score</b> puts the "
        "least certain regions first: check those before the rest. In the Data Manager, the tab "
        "<b>Most uncertain first</b> lists the articles the model was least sure about first.</p>",
    ])
