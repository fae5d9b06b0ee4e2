"""``sourcemark ls pull``: annotators' corrections out of Label Studio, as annotated documents.

Only submitted work counts: a task nobody has submitted is not a correction,
and skipped (cancelled) annotations and drafts are dropped. When a task has
several submitted annotations, one is used, by this rule:

1. a ground-truth annotation (the project's reviewers marked it, or a lead
   resolved the task), the most recently updated one if there are several;
2. otherwise, when two or more *different* annotators submitted it, they must
   agree: identical passages, roles and mentions make an agreed document,
   written once; any disagreement holds the task back and its passages and
   mentions in conflict, with each annotator's label, go to the conflicts file
   (``adjudication.py``, FORMATS.md) for a lead to resolve (``ls review``);
3. otherwise (one annotator submitted twice) their most recently updated one.

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
from typing import Any, Mapping

from sourcemark.annotation.adjudication import Conflict, find_conflicts, write_conflicts
from sourcemark.annotation.client import LabelStudioClient
from sourcemark.annotation.convert import ConversionError, result_to_document, task_doc_id
from sourcemark.annotation.diff import DiffSummary
from sourcemark.annotation.team import annotator_name, annotator_of, baseline, recency, submitted, team_task
from sourcemark.documents import Document
from sourcemark.jsonl import write_documents

RULE = ("ground truth first; then several annotators must agree (else the task is held back, its conflicts "
        "written); one annotator's resubmissions: the latest")


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
    #: Tasks two or more annotators submitted (without ground truth): agreed ones, and those held back.
    agreed: int = 0
    held: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    conflicts_file: Path | None = None


def choose_annotation(annotations: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The annotation to use among several submitted ones: ground truth first, then the latest."""
    truth = [a for a in annotations if a.get("ground_truth")]
    return max(truth or annotations, key=recency)


def convert_task(task: Mapping[str, Any], project_id: int, project_version: str | None,
                 report: PullReport) -> Document | None:
    """The corrected document of one exported task, or None (reported) if there is none."""
    candidates = submitted(task.get("annotations") or [])
    doc_id = task_doc_id(task)
    if not candidates:
        report.unannotated += 1
        return None
    chosen = choose_annotation(candidates)
    annotators = sorted({name for name in map(annotator_name, candidates) if name is not None})
    if len(annotators) > 1 and not chosen.get("ground_truth"):
        problems: list[str] = []
        team = team_task(task, project_version, problems)
        if problems:
            report.rejected += problems
            return None
        conflicts = find_conflicts(team)
        if conflicts:
            report.conflicts += conflicts
            report.held.append(f"task {task.get('id')} ({doc_id}): {len(conflicts)} conflict(s) between "
                               f"{', '.join(annotators)}")
            return None
        report.agreed += 1
    if len(candidates) > 1:
        kind = "ground truth" if chosen.get("ground_truth") else (
            "all agree" if len(annotators) > 1 else "latest")
        report.resolved.append(f"task {task.get('id')} ({doc_id}): {len(candidates)} annotations, used "
                               f"#{chosen.get('id')} by {annotator_of(chosen)} ({kind})")
    try:
        doc, notes = result_to_document(task, chosen.get("result") or [])
    except ConversionError as exc:
        report.rejected.append(f"task {task.get('id')} annotation #{chosen.get('id')}: {exc}")
        return None
    report.notes += notes
    prediction = baseline(task, chosen, project_version)
    doc.meta["labelstudio"] = {
        "project": project_id, "task": task.get("id"), "annotation": chosen.get("id"),
        "annotator": annotator_of(chosen), "ground_truth": bool(chosen.get("ground_truth")),
        "updated_at": chosen.get("updated_at"),
        "corrected_model_version": prediction.get("model_version") if prediction else None,
    }
    if len(annotators) > 1:
        doc.meta["labelstudio"]["annotators"] = annotators
    if prediction is not None:
        try:
            predicted, _ = result_to_document(task, prediction.get("result") or [])
            report.diff.add(predicted, doc)
        except ConversionError:
            report.notes.append(f"{doc_id}: its prediction could not be read back; not in the change summary")
    return doc


def default_conflicts_path(out: Path) -> Path:
    """Where the conflicts go unless told: beside ``out``, ``NAME.conflicts.jsonl``."""
    return out.with_name(f"{out.name[:-6] if out.name.endswith('.jsonl') else out.name}.conflicts.jsonl")


def pull_corrections(client: LabelStudioClient, project_ref: str, out: Path,
                     conflicts_out: Path | None = None) -> PullReport:
    """Export the project's submitted annotations and write them to ``out`` as annotated documents.

    The conflicts file (``conflicts_out``, default beside ``out``) is written
    whenever some task had several annotators (or it was asked for), so an
    old one never outlives its conflicts: empty, it says none is left.
    """
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
    if report.conflicts or report.agreed or conflicts_out is not None:
        report.conflicts_file = conflicts_out or default_conflicts_path(out)
        write_conflicts(report.conflicts_file, report.conflicts, project=report.project_id)
    return report


def report_lines(report: PullReport, out: Path) -> list[str]:
    """The terminal summary of a pull."""
    lines = [f"project {report.project_id}: {report.tasks} annotated task(s) exported, {report.written} corrected "
             f"document(s) written to {out}, {len(report.rejected)} rejected, "
             f"{report.unannotated} without a submitted annotation"]
    if report.resolved:
        lines.append(f"{len(report.resolved)} task(s) had several annotations; rule: {RULE}:")
        lines += [f"  {r}" for r in report.resolved]
    if report.agreed or report.held:
        lines.append(f"{report.agreed + len(report.held)} task(s) had several annotators: {report.agreed} agreed "
                     f"(written), {len(report.held)} held back with {len(report.conflicts)} conflict(s)")
        lines += [f"  held back: {h}" for h in report.held]
    if report.conflicts_file is not None:
        lines.append(f"{len(report.conflicts)} conflict(s) written to {report.conflicts_file} "
                     "(resolve them, or push them to a review project with `sourcemark ls review`)")
    for r in report.rejected:
        lines.append(f"rejected: {r}")
    for n in report.notes:
        lines.append(f"note: {n}")
    lines += report.diff.lines()
    return lines
