"""The Label Studio labelling config, generated from the one definition of label ids.

Design (what an annotator sees and why):

* One ``<Text name="text">`` holds the article exactly as stored (``$text``).
* Passage roles are a ``<Labels name="role">`` set with the five role ids of
  ``sourcemark.labels.ROLES``, in dark, clearly different colours (a region is
  drawn as a ~30% tint of its colour, so pale colours all look alike; dark
  ones also keep the region list's label text readable on white) and a hint
  per role. A passage is one labelled span; relabelling it is: click the
  region, click another role.
* Source mentions are a second ``<Labels name="source">`` set with **one label
  per source type** (the twelve ids of ``SOURCE_TYPES``) in twelve clearly
  different colours, drawn stronger than Label Studio's tint (``<Style>``) so
  a mention keeps its colour over its passage's. A mention is one region
  whose label *is* its type, so:
  fixing a type = click the mention, click the right type (two clicks);
  fixing a span = delete the region and select the text again with the type
  chosen (three actions); adding a mention = choose the type, select the text.
  This beats a single "source" label plus a per-region ``<Choices>`` for the
  type: that needs an extra click per mention, its type lives in a second
  result item linked only by region id (which exports like ``JSON_MIN`` drop),
  and a mention can be left without a type.
* ``<Text showLabels="true">``: Label Studio writes each region's label right
  after the region in the text, since a tint alone does not say which role a
  passage has. Scores: Label Studio 1.23 draws none in the text, and a
  passage row of the region list is wider than the panel, which pushed the
  score out of sight; the ``<Style>`` cuts the row's text short so the label
  and the score stay readable there.
* The label sets sit in a sticky bar: on a long article they stay on screen
  while the annotator scrolls.
* Mentions sit inside their passage; Label Studio draws the nested highlight,
  and the conversion (``convert.py``) assigns each mention to the passage that
  contains it.
* Predictions carry a ``score`` per region (a passage's top role probability,
  a mention's tagger confidence), so annotators can look at the least certain
  ones first (the region list's "order by score").

The label values are the ids themselves (``claim``, ``telegram_channel``...),
with one exception: the source type ``other`` is shown as ``other_source``,
because a second label called ``other`` (beside the role) is ambiguous on
screen and in the region list. ``convert.py`` maps it both ways, so files
keep the guide's id.
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

#: Dark colours of clearly different hues (blue, orange, crimson, green; grey for page furniture): the text shows
#: them as a light tint, and the region list writes the label in this colour on white.
ROLE_COLOURS: dict[str, str] = {
    "claim": "#1565c0",
    "attributed_report": "#c05000",
    "analysis": "#ad1457",
    "reader_comment": "#2e7d32",
    "other": "#424242",
}

#: Twelve clearly different colours, one per source type: red, pink, orange, gold, lime, green, teal,
#: sky, blue, purple, brown and grey (a grey for the source that names nobody). Types that annotators
#: confuse (state media, armed group, official, other) get far-apart colours; each is dark enough
#: (3:1 on white) for the region list, which writes the label in its colour.
SOURCE_COLOURS: dict[str, str] = {
    "telegram_channel": "#0284c7",
    "social_media": "#7e22ce",
    "state_media": "#dc2626",
    "monitor_group": "#65a30d",
    "armed_group": "#db2777",
    "news_media": "#ea580c",
    "official": "#1d4ed8",
    "expert": "#0f766e",
    "humanitarian_org": "#15803d",
    "local_source": "#b8860b",
    "unnamed": "#6b7280",
    "other": "#92400e",
}

#: How opaque a mention's highlight is. Label Studio tints every region at 0.3, and a mention at 0.3
#: over its passage's tint loses its hue; at this opacity the twelve types stay apart in the text.
MENTION_OPACITY = 0.55

#: The Label Studio label value of each source type, where it differs from the id.
SOURCE_LABEL_RENAMES: dict[str, str] = {"other": "other_source"}


def source_label(source_type: str) -> str:
    """The label value a source type has in the Label Studio config."""
    return SOURCE_LABEL_RENAMES.get(source_type, source_type)


def source_type_of(label: str) -> str | None:
    """The source type id of a Label Studio source label value; None if the config has no such label."""
    for source_type in SOURCE_TYPES:
        if source_label(source_type) == label:
            return source_type
    return None


def _check_colours() -> None:
    """Fail at import if labels.py gained an id this module has no colour for."""
    missing = [r for r in ROLES if r not in ROLE_COLOURS] + [t for t in SOURCE_TYPES if t not in SOURCE_COLOURS]
    if missing:
        raise RuntimeError(f"annotation/config.py: no colour for label id(s) {missing}")


_check_colours()


#: The label sets stick to the top of the labelling area, so they stay reachable on a long article;
#: each set is one row headed by its name, so the bar takes little of the screen.
LABEL_BAR_STYLE = ("position: sticky; top: 0; z-index: 10; background: #ffffff; padding-bottom: 4px; "
                   "border-bottom: 1px solid #c8c8c8")
LABEL_ROW_STYLE = "display: flex; align-items: baseline; gap: 12px"


#: The region list is narrower than a passage row, which pushed each region's score out of sight:
#: these rules (on Label Studio's outliner classes) cut the passage text short with an ellipsis
#: and keep the label and the score whole. No ">" in it: it sits in XML.
REGION_LIST_STYLE = """
  .lsf-tree-node-content-wrapper { min-width: 0; flex: 1 1 auto; overflow: hidden; }
  .lsf-tree-title, .lsf-outliner-item, .lsf-outliner-item__content { min-width: 0; max-width: 100%; }
  .lsf-outliner-item__title { min-width: 0; overflow: hidden; }
  .lsf-outliner-item__title .lsf-labels-list { flex: none; }
  .lsf-outliner-item__text { min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
"""


def mention_style() -> str:
    """CSS that draws each source mention in its type's colour at ``MENTION_OPACITY``.

    Label Studio writes a region's ``index:label`` into the ``data-label``
    attribute of its last span (a mention is one span, inside its passage), so
    a rule per source label can recolour mentions; a selected (``__active``) or
    hidden region keeps Label Studio's own look.
    """
    rules = []
    for source_type in SOURCE_TYPES:
        colour = SOURCE_COLOURS[source_type]
        red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        rules.append(f'  .htx-highlight[data-label$=":{source_label(source_type)}"]:not(.__active):not(.__hidden) '
                     f"{{ background-color: rgba({red}, {green}, {blue}, {MENTION_OPACITY}) !important; }}")
    return "\n".join(rules) + "\n"


def label_config() -> str:
    """The labelling config XML for a sourcemark project."""
    roles = "\n".join(
        f"    <Label value={quoteattr(r)} background={quoteattr(ROLE_COLOURS[r])} "
        f"hint={quoteattr(ROLE_DESCRIPTIONS.get(r, r))}/>"
        for r in ROLES
    )
    sources = "\n".join(
        f"    <Label value={quoteattr(source_label(t))} background={quoteattr(SOURCE_COLOURS[t])}/>"
        for t in SOURCE_TYPES
    )
    return f"""<View>
  <Style>{REGION_LIST_STYLE}{mention_style()}  </Style>
  <View style="{LABEL_BAR_STYLE}">
  <Header value="${DOC_ID_KEY}" size="6"/>
  <View style="{LABEL_ROW_STYLE}">
  <Header value="Passage role" size="6"/>
  <Labels name="{ROLE_CONTROL}" toName="{TEXT_NAME}" choice="single" showInline="true">
{roles}
  </Labels>
  </View>
  <View style="{LABEL_ROW_STYLE}">
  <Header value="Source type" size="6"/>
  <Labels name="{SOURCE_CONTROL}" toName="{TEXT_NAME}" choice="single" showInline="true">
{sources}
  </Labels>
  </View>
  </View>
  <Text name="{TEXT_NAME}" value="${TEXT_KEY}" showLabels="true"/>
</View>
"""


def config_problems(xml: str) -> list[str]:
    """Why a project's config cannot hold sourcemark annotations (empty list: it can).

    Only what the conversion relies on is checked: the Text tag and both label
    sets with exactly the guide's ids (the source ``other`` as ``other_source``).
    Colours, headers, hints and extra controls are the project owner's business.
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
    source_labels = tuple(source_label(t) for t in SOURCE_TYPES)
    for control, wanted in ((ROLE_CONTROL, ROLES), (SOURCE_CONTROL, source_labels)):
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
        renamed = [(old, new) for old, new in SOURCE_LABEL_RENAMES.items() if old in extra and new in missing]
        if control == SOURCE_CONTROL and renamed:
            # a project made before the source `other` had its own name: say how to bring it up to date
            problems += [f'<Labels name="{control}"> names the source type {old!r} "{old}": rename that label to '
                         f'"{new}" (Settings > Labeling Interface > Code)' for old, new in renamed]
            missing = [v for v in missing if v not in {new for _, new in renamed}]
            extra = [v for v in extra if v not in {old for old, _ in renamed}]
        if missing:
            problems.append(f'<Labels name="{control}"> lacks {", ".join(missing)}')
        if extra:
            problems.append(f'<Labels name="{control}"> has unknown label(s) {", ".join(map(str, extra))}')
    return problems
