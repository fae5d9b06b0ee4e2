"""What annotators changed relative to the model's prediction, counted per role and per source type.

The counts say where the model needs help: many ``claim -> attributed_report``
relabels, say, or many added ``telegram_channel`` mentions.

Regions are matched between prediction and annotation first by identical span,
then by overlap (at least half of the longer span shared). A matched region is
*kept* (same label, same span), *relabelled* (label changed) and/or *resized*
(span changed); an unmatched predicted region was *deleted*, an unmatched
human region was *added*. Relabels are counted under the predicted label and
also kept as ``from -> to`` pairs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from sourcemark.documents import Document
from sourcemark.labels import ROLES, SOURCE_TYPES

KINDS = ("kept", "relabelled", "resized", "added", "deleted")

Span = tuple[int, int, str]


@dataclass
class DiffSummary:
    """Counts of changes, per role (passages) and per source type (mentions)."""

    documents: int = 0
    roles: dict[str, Counter] = field(default_factory=lambda: {r: Counter() for r in ROLES})
    sources: dict[str, Counter] = field(default_factory=lambda: {t: Counter() for t in SOURCE_TYPES})
    role_changes: Counter = field(default_factory=Counter)
    source_changes: Counter = field(default_factory=Counter)

    def add(self, predicted: Document, corrected: Document) -> None:
        """Count the differences of one document pair."""
        self.documents += 1
        _compare([(p.start, p.end, p.label or "") for p in predicted.passages],
                 [(p.start, p.end, p.label or "") for p in corrected.passages],
                 self.roles, self.role_changes)
        _compare([(s.start, s.end, s.type) for p in predicted.passages for s in p.sources],
                 [(s.start, s.end, s.type) for p in corrected.passages for s in p.sources],
                 self.sources, self.source_changes)

    def totals(self) -> dict[str, Counter]:
        """Counts summed over all labels, for ``roles`` and ``sources``."""
        return {"roles": sum(self.roles.values(), Counter()), "sources": sum(self.sources.values(), Counter())}

    def to_dict(self) -> dict:
        return {
            "documents": self.documents,
            "roles": {k: dict(v) for k, v in self.roles.items() if v},
            "sources": {k: dict(v) for k, v in self.sources.items() if v},
            "role_changes": {f"{a} -> {b}": n for (a, b), n in self.role_changes.most_common()},
            "source_changes": {f"{a} -> {b}": n for (a, b), n in self.source_changes.most_common()},
        }

    def lines(self) -> list[str]:
        """A plain-text table for the terminal."""
        if not self.documents:
            return ["no corrected document had a prediction to compare with"]
        out = [f"changes against the prediction in {self.documents} document(s):"]
        for title, table, changes in (("role", self.roles, self.role_changes),
                                      ("source type", self.sources, self.source_changes)):
            if not any(table.values()):
                out.append(f"  {title}: none predicted or annotated")
                continue
            out.append(f"  {title:<18}" + "".join(f"{k:>11}" for k in KINDS))
            for label, counts in table.items():
                if counts:
                    out.append(f"  {label:<18}" + "".join(f"{counts.get(k, 0):>11}" for k in KINDS))
            if changes:
                out.append("  relabels: " + ", ".join(f"{a} -> {b} x{n}" for (a, b), n in changes.most_common(8)))
        return out


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _compare(predicted: list[Span], human: list[Span], table: dict[str, Counter], changes: Counter) -> None:
    unmatched_h = list(human)
    pairs: list[tuple[Span, Span]] = []
    rest_p: list[Span] = []
    exact = {(h[0], h[1]): h for h in human}
    for p in predicted:
        h = exact.pop((p[0], p[1]), None)
        if h is not None:
            pairs.append((p, h))
            unmatched_h.remove(h)
        else:
            rest_p.append(p)
    deleted: list[Span] = []
    for p in rest_p:
        best = max(unmatched_h, key=lambda h: _overlap(p, h), default=None)
        if best is not None and 2 * _overlap(p, best) >= max(p[1] - p[0], best[1] - best[0]):
            pairs.append((p, best))
            unmatched_h.remove(best)
        else:
            deleted.append(p)
    for p, h in pairs:
        counts = table.setdefault(p[2], Counter())
        if p[2] != h[2]:
            counts["relabelled"] += 1
            changes[(p[2], h[2])] += 1
        if (p[0], p[1]) != (h[0], h[1]):
            counts["resized"] += 1
        if p == h:
            counts["kept"] += 1
    for p in deleted:
        table.setdefault(p[2], Counter())["deleted"] += 1
    for h in unmatched_h:
        table.setdefault(h[2], Counter())["added"] += 1


def summarise(pairs: Iterable[tuple[Document, Document]]) -> DiffSummary:
    """A DiffSummary over (predicted, corrected) document pairs."""
    summary = DiffSummary()
    for predicted, corrected in pairs:
        summary.add(predicted, corrected)
    return summary
