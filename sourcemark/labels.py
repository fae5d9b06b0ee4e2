"""The one definition of the label ids (ANNOTATION_GUIDE.md, sections 2 and 3).

Every other module, the Label Studio config, the corpus and all data files use
these tuples. Their order is fixed: it is the order of a model's output
classes, so changing it changes the meaning of saved models.
"""

from __future__ import annotations

ROLES: tuple[str, ...] = (
    "claim",
    "attributed_report",
    "analysis",
    "reader_comment",
    "other",
)

SOURCE_TYPES: tuple[str, ...] = (
    "telegram_channel",
    "social_media",
    "state_media",
    "monitor_group",
    "armed_group",
    "news_media",
    "official",
    "expert",
    "humanitarian_org",
    "local_source",
    "unnamed",
    "other",
)

#: The role a gold passage gets when no predicted passage covers it (FORMATS.md).
DEFAULT_ROLE = "other"

#: Sections the segmenter assigns; stored as a passage's ``section`` field.
SECTIONS: tuple[str, ...] = ("body", "comments")

ROLE_DESCRIPTIONS: dict[str, str] = {
    "claim": "The author states something as fact, in their own voice.",
    "attributed_report": "Conveys what a named or unnamed source said, reported, posted or showed.",
    "analysis": "The author's interpretation, inference, evaluation, prediction or opinion.",
    "reader_comment": "Text written by a reader in the comment section, including name lines.",
    "other": "Non-propositional page material: bylines, credits, tags, navigation, counters.",
}

