"""``sourcemark ls pull``: annotators' corrections out of Label Studio, as annotated documents.

Only submitted work counts: a task nobody has submitted is not a correction,
and skipped (cancelled) annotations and drafts are dropped. When several
annotators submitted the same task, one annotation is used, by this rule:

1. a ground-truth annotation (the project's reviewers marked it), the most
   recently updated one if there are several;
2. otherwise the most recently updated annotation.

Every task where the rule had to choose is reported. The chosen annotation is
converted (``convert.result_to_document``) and validated; a task whose
annotation does not make a valid document (overlapping passages, a mention
outside every passage) is reported and left out, never written half-right.
The output file is written atomically: an interrupted pull leaves the previous
file as it was. Each document's ``meta.labelstudio`` records where it came
from (project, task, annotation, annotator, model version it corrected).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from sourcemark.annotation.client import LabelStudioClient
from sourcemark.annotation.convert import ConversionError, result_to_document, task_doc_id
from sourcemark.annotation.diff import DiffSummary
from sourcemark.documents import Document
from sourcemark.jsonl import write_documents

RULE = "ground truth first, then the most recently updated"


@dataclass
class PullReport:
    """What a pull found and wrote."""

    project_id: int = 0
    tasks: int = 0
    written: int = 0
    unannotated: int = 0
    rejected: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diff: DiffSummary = field(default_factory=DiffSummary)


def submitted(annotations: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Annotations that are real submissions: not skipped/cancelled."""
    return [a for a in annotations if not a.get("was_cancelled") and isinstance(a.get("result"), list)]


def choose_annotation(annotations: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The annotation to use among several submitted ones (see the module docstring)."""
    def recency(a: Mapping[str, Any]) -> tuple[str, str, int]:
        return (str(a.get("updated_at") or ""), str(a.get("created_at") or ""), int(a.get("id") or 0))

    truth = [a for a in annotations if a.get("ground_truth")]
    return max(truth or annotations, key=recency)


def _annotator(annotation: Mapping[str, Any]) -> str | int | None:
    who = annotation.get("completed_by")
    if isinstance(who, Mapping):
        return who.get("email") or who.get("id")
    return who


def _baseline(task: Mapping[str, Any], annotation: Mapping[str, Any], project_version: str | None) -> Mapping | None:
    """The prediction the annotator corrected: the annotation's own, else the project's version, else the latest."""
    predictions = [p for p in task.get("predictions") or [] if isinstance(p, Mapping)]
    linked = annotation.get("prediction")
    if isinstance(linked, Mapping) and linked.get("result") is not None:
        return linked
    parent = annotation.get("parent_prediction")
    for p in predictions:
        if parent is not None and p.get("id") == parent:
            return p
    current = [p for p in predictions if project_version and p.get("model_version") == project_version]
    candidates = current or predictions
    return max(candidates, key=lambda p: (str(p.get("created_at") or ""), int(p.get("id") or 0)), default=None)


def convert_task(task: Mapping[str, Any], project_id: int, project_version: str | None,
                 report: PullReport) -> Document | None:
    """The corrected document of one exported task, or None (reported) if there is none."""
    candidates = submitted(task.get("annotations") or [])
    doc_id = task_doc_id(task)
    if not candidates:
        report.unannotated += 1
        return None
    chosen = choose_annotation(candidates)
    if len(candidates) > 1:
        kind = "ground truth" if chosen.get("ground_truth") else "latest"
        report.resolved.append(f"task {task.get('id')} ({doc_id}): {len(candidates)} annotations, used "
                               f"#{chosen.get('id')} by {_annotator(chosen)} ({kind})")
    try:
        doc, notes = result_to_document(task, chosen.get("result") or [])
    except ConversionError as exc:
        report.rejected.append(f"task {task.get('id')} annotation #{chosen.get('id')}: {exc}")
        return None
    report.notes += notes
    baseline = _baseline(task, chosen, project_version)
    doc.meta["labelstudio"] = {
        "project": project_id, "task": task.get("id"), "annotation": chosen.get("id"),
        "annotator": _annotator(chosen), "ground_truth": bool(chosen.get("ground_truth")),
        "updated_at": chosen.get("updated_at"),
        "corrected_model_version": baseline.get("model_version") if baseline else None,
    }
    if baseline is not None:
        try:
            predicted, _ = result_to_document(task, baseline.get("result") or [])
            report.diff.add(predicted, doc)
        except ConversionError:
            report.notes.append(f"{doc_id}: its prediction could not be read back; not in the change summary")
    return doc


def pull_corrections(client: LabelStudioClient, project_ref: str, out: Path) -> PullReport:
    """Export the project's submitted annotations and write them to ``out`` as annotated documents."""
    project = client.require_project(project_ref)
    report = PullReport(project_id=int(project["id"]))
    tasks = client.export_snapshot(report.project_id)
    report.tasks = len(tasks)
    docs: list[Document] = []
    for task in sorted(tasks, key=lambda t: int(t.get("id") or 0)):
        doc = convert_task(task, report.project_id, project.get("model_version") or None, report)
        if doc is not None:
            docs.append(doc)
    report.written = write_documents(out, docs)
    return report


def report_lines(report: PullReport, out: Path) -> list[str]:
    """The terminal summary of a pull."""
    lines = [f"project {report.project_id}: {report.tasks} annotated task(s) exported, {report.written} corrected "
             f"document(s) written to {out}, {len(report.rejected)} rejected, "
             f"{report.unannotated} without a submitted annotation"]
    if report.resolved:
        lines.append(f"{len(report.resolved)} task(s) had several annotations; rule: {RULE}:")
        lines += [f"  {r}" for r in report.resolved]
    for r in report.rejected:
        lines.append(f"rejected: {r}")
    for n in report.notes:
        lines.append(f"note: {n}")
    lines += report.diff.lines()
    return lines
