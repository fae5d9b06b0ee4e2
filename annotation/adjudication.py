"""Where annotators of one task disagree, as records a lead can resolve (the conflicts file of FORMATS.md).

Passages and mentions are compared the same way: every annotator's regions
(passages with their role, or mentions with their type) are grouped into
clusters of overlapping regions, across annotators. A cluster is *agreed*
when every annotator has exactly one region in it with the same span and the
same label; anything else (another label, another span, a region only some
annotators drew, one region split in two) is a *conflict* and becomes one
record listing each annotator's regions in that cluster. Grouping by overlap
rather than by exact span keeps a disagreement in one record (a lead sees
"A: claim [0, 55), B: analysis [0, 40) + claim [41, 55)"), instead of
scattering it over several.

A task whose annotators agree everywhere gives one agreed document; the
documents are then identical, so it does not matter whose is written.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from sourcemark.annotation.client import LabelStudioClient
from sourcemark.annotation.convert import task_doc_id
from sourcemark.annotation.push import PushStats, push_documents
from sourcemark.annotation.team import TeamTask, team_task
from sourcemark.documents import Document
from sourcemark.jsonl import atomic_output, iter_jsonl

PASSAGE = "passage"
MENTION = "mention"

#: (start, end, label): a passage with its role or a mention with its type.
Region = tuple[int, int, str]


def passage_regions(doc: Document) -> list[Region]:
    return [(p.start, p.end, str(p.label)) for p in doc.passages]


def mention_regions(doc: Document) -> list[Region]:
    return sorted((m.start, m.end, m.type) for p in doc.passages for m in p.sources)


def clusters(regions: Mapping[str, Sequence[Region]]) -> list[dict[str, list[Region]]]:
    """Regions of all annotators grouped by overlap (transitively), in text order."""
    tagged = sorted((r, name) for name, rs in regions.items() for r in rs)
    out: list[dict[str, list[Region]]] = []
    end = -1
    for region, name in tagged:
        if not out or region[0] >= end:
            out.append({})
            end = region[1]
        out[-1].setdefault(name, []).append(region)
        end = max(end, region[1])
    return out


def agreed(cluster: Mapping[str, Sequence[Region]], annotators: Sequence[str]) -> bool:
    """Every annotator drew exactly one region here, all with the same span and label."""
    found = [cluster.get(name, []) for name in annotators]
    return all(len(f) == 1 for f in found) and len({f[0] for f in found}) == 1


@dataclass(frozen=True)
class Conflict:
    """One cluster where the annotators of a task disagree (a line of the conflicts file)."""

    doc_id: str
    task: int
    kind: str
    start: int
    end: int
    text: str
    labels: dict[str, list[Region]]
    prelabel: list[Region]
    annotations: dict[str, int]

    def to_dict(self, project: int | None = None) -> dict[str, Any]:
        def spans(rs: Iterable[Region]) -> list[dict[str, Any]]:
            return [{"start": s, "end": e, "label": label} for s, e, label in rs]
        record: dict[str, Any] = {"doc_id": self.doc_id}
        if project is not None:
            record["project"] = project
        record.update({
            "task": self.task, "kind": self.kind, "start": self.start, "end": self.end, "text": self.text,
            "labels": {name: spans(rs) for name, rs in self.labels.items()},
            "prelabel": spans(self.prelabel), "annotations": self.annotations,
        })
        return record


def find_conflicts(team: TeamTask) -> list[Conflict]:
    """Every passage and mention cluster of ``team`` on which its annotators disagree, in text order."""
    names = team.annotators
    if len(names) < 2:
        return []
    out: list[Conflict] = []
    for kind, regions_of in ((PASSAGE, passage_regions), (MENTION, mention_regions)):
        per_annotator = {name: regions_of(team.documents[name]) for name in names}
        predicted = regions_of(team.prelabel) if team.prelabel is not None else []
        for cluster in clusters(per_annotator):
            if agreed(cluster, names):
                continue
            start = min(r[0] for rs in cluster.values() for r in rs)
            end = max(r[1] for rs in cluster.values() for r in rs)
            out.append(Conflict(
                doc_id=team.doc_id, task=team.task_id, kind=kind, start=start, end=end,
                text=team.text[start:end], labels={name: cluster.get(name, []) for name in names},
                prelabel=[r for r in predicted if r[0] < end and start < r[1]],
                annotations=dict(team.annotation_ids),
            ))
    return sorted(out, key=lambda c: (c.start, c.kind != PASSAGE, c.end))


def write_conflicts(path: str | os.PathLike[str], conflicts: Iterable[Conflict], project: int | None = None) -> int:
    """Write the conflicts file atomically (one JSON object per line); return the number of lines."""
    n = 0
    with atomic_output(path) as handle:
        for conflict in conflicts:
            handle.write(json.dumps(conflict.to_dict(project), ensure_ascii=False) + "\n")
            n += 1
    return n


def read_conflicts(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The records of a conflicts file; a line that is not a conflict record is a ValueError naming it."""
    records = []
    for line in iter_jsonl(path):
        if line.error is not None:
            raise ValueError(f"{path}:{line.line}: {line.error}")
        record = line.value
        if not isinstance(record, dict) or not isinstance(record.get("doc_id"), str) or "task" not in record:
            raise ValueError(f"{path}:{line.line}: not a conflict record (needs doc_id and task)")
        records.append(record)
    return records


# ----------------------------------------------------------------------------- review tasks

#: Model version under which an annotator's version of a document goes to a review project.
REVIEW_VERSION = "annotator: {name}"


def review_documents(teams: Iterable[TeamTask], conflicts: Sequence[Mapping[str, Any]]) -> dict[str, list[Document]]:
    """Per annotator, their versions of the conflicted documents, ready to push as predictions.

    Each version is a prediction whose ``model_version`` names the annotator,
    so the lead switches between them in Label Studio, fixes one and submits
    it; the conflicts of the document ride along in its ``meta``.
    """
    by_doc: dict[str, list[Mapping[str, Any]]] = {}
    for record in conflicts:
        by_doc.setdefault(str(record["doc_id"]), []).append(record)
    out: dict[str, list[Document]] = {}
    for team in teams:
        records = by_doc.get(team.doc_id)
        if not records:
            continue
        for name, doc in team.documents.items():
            version = Document(doc.doc_id, doc.text, dict(doc.meta), doc.passages,
                               model_version=REVIEW_VERSION.format(name=name))
            version.meta["conflicts"] = [{k: r[k] for k in ("kind", "start", "end", "labels") if k in r}
                                         for r in records]
            out.setdefault(name, []).append(version)
    return out


@dataclass
class ReviewStats:
    """What ``ls review`` did."""

    documents: int = 0
    missing: list[str] = field(default_factory=list)
    push: PushStats | None = None


def push_review(client: LabelStudioClient, source_project: str, conflicts_path: str | os.PathLike[str],
                review_project: str, create: bool = False) -> ReviewStats:
    """Push every annotator's version of each conflicted document into a review project.

    The versions are read again from the source project (the conflicts file
    names the documents; the server holds the annotations). One idempotent
    push per annotator: the first creates the review tasks, the others add
    their predictions, and a re-run adds nothing.
    """
    conflicts = read_conflicts(conflicts_path)
    if not conflicts:
        raise ValueError(f"{conflicts_path}: no conflicts to review")
    project = client.require_project(source_project)
    if str(review_project).strip() in (str(project["id"]), str(project.get("title"))):
        raise ValueError("the review project must be another project than the one annotated "
                         "(its tasks already have these doc_ids)")
    wanted = {str(r["doc_id"]) for r in conflicts}
    teams = [team_task(t, project.get("model_version") or None) for t in client.export_snapshot(int(project["id"]))
             if task_doc_id(t) in wanted]
    versions = review_documents(teams, conflicts)
    stats = ReviewStats(documents=len({d.doc_id for docs in versions.values() for d in docs}))
    stats.missing = sorted(wanted - {d.doc_id for docs in versions.values() for d in docs})
    for name in sorted(versions):
        stats.push = push_documents(client, review_project, versions[name], create=create)
        create = False
    return stats
