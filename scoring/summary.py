"""Per-article source profile: what a propaganda analyst asks of an article first.

How much of the article is the author's own claim, how much is relayed and
from whom, and how much of the relayed content comes from armed groups, state
media and Telegram channels.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sourcemark.documents import Document
from sourcemark.labels import ROLES, SOURCE_TYPES

#: Source types whose share of attributed content is reported as a relay indicator.
RELAY_TYPES: tuple[str, ...] = ("armed_group", "state_media", "telegram_channel")


def _chars(doc: Document, label: str) -> int:
    return sum(len(doc.text[p.start : p.end].strip()) for p in doc.passages if p.label == label)


def article_summary(doc: Document) -> dict[str, Any]:
    """Counts and shares for one predicted document (flat, so it is also a CSV row).

    * ``share_chars_<role>``: the role's share of all passage characters.
    * ``relay_share_<type>``: share of attributed-report characters whose
      passage cites at least one mention of that type.
    * ``unattributed_claim_share``: claim characters over claim plus
      attributed-report characters: how much of the factual content the
      author asserts without a source.
    """
    total_chars = sum(len(doc.text[p.start : p.end].strip()) for p in doc.passages) or 1
    roles = Counter(p.label for p in doc.passages)
    types = Counter(s.type for p in doc.passages for s in p.sources)
    outlets = sorted({s.extra["registry_id"] for p in doc.passages for s in p.sources if "registry_id" in s.extra})
    attributed = [p for p in doc.passages if p.label == "attributed_report"]
    attributed_chars = sum(len(doc.text[p.start : p.end].strip()) for p in attributed) or 0
    row: dict[str, Any] = {"doc_id": doc.doc_id, "passages": len(doc.passages)}
    row.update({f"passages_{r}": roles.get(r, 0) for r in ROLES})
    row.update({f"share_chars_{r}": round(_chars(doc, r) / total_chars, 4) for r in ROLES})
    row.update({f"mentions_{t}": types.get(t, 0) for t in SOURCE_TYPES})
    for kind in RELAY_TYPES:
        cited = sum(len(doc.text[p.start : p.end].strip()) for p in attributed
                    if any(s.type == kind for s in p.sources))
        row[f"relay_share_{kind}"] = round(cited / attributed_chars, 4) if attributed_chars else 0.0
    claim_chars = _chars(doc, "claim")
    row["unattributed_claim_share"] = round(claim_chars / (claim_chars + attributed_chars), 4) \
        if claim_chars + attributed_chars else 0.0
    row["registry_outlets"] = ";".join(outlets)
    return row


SUMMARY_COLUMNS: tuple[str, ...] = tuple(article_summary(Document("x", "")).keys())
