"""The Label Studio labelling config, generated from the one definition of label ids.

Design (what an annotator sees and why):

* One ``<Text name="text">`` holds the article exactly as stored (``$text``).
* Passage roles are a ``<Labels name="role">`` set with the five role ids of
  ``sourcemark.labels.ROLES``, pale background colours and a hint per role.
  A passage is one labelled span; relabelling it is: click the region, click
  another role.
* Source mentions are a second ``<Labels name="source">`` set with **one label
  per source type** (the twelve ids of ``SOURCE_TYPES``), each in a strong,
  distinct colour. A mention is one region whose label *is* its type, so:
  fixing a type = click the mention, click the right type (two clicks);
  fixing a span = delete the region and select the text again with the type
  chosen (three actions); adding a mention = choose the type, select the text.
  This beats a single "source" label plus a per-region ``<Choices>`` for the
  type: that needs an extra click per mention, its type lives in a second
  result item linked only by region id (which exports like ``JSON_MIN`` drop),
  and a mention can be left without a type.
* Mentions sit inside their passage; Label Studio draws the nested highlight,
  and the conversion (``convert.py``) assigns each mention to the passage that
  contains it.
* Predictions carry a ``score`` per region (a passage's top role probability,
  a mention's tagger confidence), which Label Studio shows next to each
  predicted region, so annotators can look at the least certain ones first.

The ids are the label values themselves (``claim``, ``telegram_channel``...):
what Label Studio exports is what FORMATS.md needs, with no mapping table to
keep in sync. ``other`` exists in both sets; the control name (``role`` or
``source``) tells them apart.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

from sourcemark.labels import ROLE_DESCRIPTIONS, ROLES, SOURCE_TYPES

#: Names used in the config and in every Label Studio result item.
TEXT_NAME = "text"
ROLE_CONTROL = "role"
SOURCE_CONTROL = "source"
#: Task data keys.
TEXT_KEY = "text"
DOC_ID_KEY = "doc_id"
UNCERTAINTY_KEY = "uncertainty"

#: Pale colours: role regions are long and must not hide the mentions drawn inside them.
ROLE_COLOURS: dict[str, str] = {
    "claim": "#a6cee3",
    "attributed_report": "#fdbf6f",
    "analysis": "#cab2d6",
    "reader_comment": "#b2df8a",
    "other": "#d9d9d9",
}

#: Strong, mutually distinct colours, one per source type.
SOURCE_COLOURS: dict[str, str] = {
    "telegram_channel": "#1f78b4",
    "social_media": "#6a3d9a",
    "state_media": "#e31a1c",
    "monitor_group": "#33a02c",
    "armed_group": "#8b0000",
    "news_media": "#ff7f00",
    "official": "#b15928",
    "expert": "#008b8b",
    "humanitarian_org": "#e7298a",
    "local_source": "#66a61e",
    "unnamed": "#525252",
    "other": "#a6761d",
}


def _check_colours() -> None:
    """Fail at import if labels.py gained an id this module has no colour for."""
    missing = [r for r in ROLES if r not in ROLE_COLOURS] + [t for t in SOURCE_TYPES if t not in SOURCE_COLOURS]
    if missing:
        raise RuntimeError(f"annotation/config.py: no colour for label id(s) {missing}")


_check_colours()


def label_config() -> str:
    """The labelling config XML for a sourcemark project."""
    roles = "\n".join(
        f"    <Label value={quoteattr(r)} background={quoteattr(ROLE_COLOURS[r])} "
        f"hint={quoteattr(ROLE_DESCRIPTIONS.get(r, r))}/>"
        for r in ROLES
    )
    sources = "\n".join(
        f"    <Label value={quoteattr(t)} background={quoteattr(SOURCE_COLOURS[t])}/>" for t in SOURCE_TYPES
    )
    return f"""<View>
  <Header value="${DOC_ID_KEY}" size="5"/>
  <Header value="Passage role (one per passage)" size="6"/>
  <Labels name="{ROLE_CONTROL}" toName="{TEXT_NAME}" choice="single" showInline="true">
{roles}
  </Labels>
  <Header value="Source mention (shortest span naming the source; the label is its type)" size="6"/>
  <Labels name="{SOURCE_CONTROL}" toName="{TEXT_NAME}" choice="single" showInline="true">
{sources}
  </Labels>
  <Text name="{TEXT_NAME}" value="${TEXT_KEY}"/>
</View>
"""


def config_problems(xml: str) -> list[str]:
    """Why a project's config cannot hold sourcemark annotations (empty list: it can).

    Only what the conversion relies on is checked: the Text tag and both label
    sets with exactly the guide's ids. Colours, headers, hints and extra
    controls are the project owner's business.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        return [f"the labelling config is not valid XML ({exc})"]
    problems: list[str] = []
    texts = [e for e in root.iter("Text") if e.get("name") == TEXT_NAME]
    if not texts:
        problems.append(f'no <Text name="{TEXT_NAME}"> tag')
    elif texts[0].get("value") != f"${TEXT_KEY}":
        problems.append(f'<Text name="{TEXT_NAME}"> does not show ${TEXT_KEY}')
    for control, wanted in ((ROLE_CONTROL, ROLES), (SOURCE_CONTROL, SOURCE_TYPES)):
        found = [e for e in root.iter("Labels") if e.get("name") == control]
        if not found:
            problems.append(f'no <Labels name="{control}"> set')
            continue
        labels = found[0]
        if labels.get("toName") != TEXT_NAME:
            problems.append(f'<Labels name="{control}"> is not applied to "{TEXT_NAME}"')
        values = [e.get("value") for e in labels.iter("Label")]
        missing = [v for v in wanted if v not in values]
        extra = [v for v in values if v not in wanted]
        if missing:
            problems.append(f'<Labels name="{control}"> lacks {", ".join(missing)}')
        if extra:
            problems.append(f'<Labels name="{control}"> has unknown label(s) {", ".join(map(str, extra))}')
    return problems
