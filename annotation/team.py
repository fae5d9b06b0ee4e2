"""An exported Label Studio task as one document per annotator, plus the model's pre-label.

Agreement, adjudication and pull all need the same view of a task that
several people annotated: who submitted what, as annotated documents, and
which prediction they started from. Building it once here keeps the rules in
one place:

* only submitted annotations count (not skipped, with a result list);
* an annotator is named by e-mail when the export expands users, else by id;
  an annotation without its annotator cannot be told apart from the others'
  and is left out;
  when one annotator submitted the same task twice, their latest submission is
  their answer (a resubmission is a correction of oneself, not a second voice);
* the pre-label is the prediction the annotation corrected: its own, else the
  project's current model version, else the latest prediction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from sourcemark.annotation.client import LabelStudioClient
from sourcemark.annotation.convert import ConversionError, result_to_document, task_doc_id
from sourcemark.documents import Document


def submitted(annotations: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Annotations that are real submissions: not skipped/cancelled."""
    return [a for a in annotations if not a.get("was_cancelled") and isinstance(a.get("result"), list)]


def recency(annotation: Mapping[str, Any]) -> tuple[str, str, int]:
    """Sort key: the most recently updated (then created, then highest id) last."""
    return (str(annotation.get("updated_at") or ""), str(annotation.get("created_at") or ""),
            int(annotation.get("id") or 0))


def annotator_of(annotation: Mapping[str, Any]) -> str | int | None:
    """Who submitted an annotation, as the export says: e-mail when it expands users, else the user id."""
    who = annotation.get("completed_by")
    if isinstance(who, Mapping):
        return who.get("email") or who.get("id")
    return who


def annotator_name(annotation: Mapping[str, Any]) -> str | None:
    """The annotator as a name to group by (``user <id>`` without an e-mail); None when the export has none."""
    who = annotator_of(annotation)
    if who is None:
        return None
    return who if isinstance(who, str) else f"user {who}"


def baseline(task: Mapping[str, Any], annotation: Mapping[str, Any] | None,
             project_version: str | None) -> Mapping[str, Any] | None:
    """The prediction an annotator corrected: the annotation's own, else the project's version, else the latest."""
    predictions = [p for p in task.get("predictions") or [] if isinstance(p, Mapping)]
    if annotation is not None:
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


@dataclass
class TeamTask:
    """One task's submissions, one document per annotator (names sorted), and the pre-label."""

    task_id: int
    doc_id: str
    text: str
    documents: dict[str, Document] = field(default_factory=dict)
    annotation_ids: dict[str, int] = field(default_factory=dict)
    ground_truth: str | None = None
    prelabel: Document | None = None
    prelabel_version: str | None = None

    @property
    def annotators(self) -> list[str]:
        return sorted(self.documents)


def team_task(task: Mapping[str, Any], project_version: str | None = None,
              problems: list[str] | None = None) -> TeamTask:
    """The per-annotator view of one exported task.

    An annotation that does not convert to a valid document is left out and
    described in ``problems`` (so the rest of the task still counts).
    """
    problems = problems if problems is not None else []
    doc_id = task_doc_id(task)
    text = str((task.get("data") or {}).get("text") or "")
    team = TeamTask(task_id=int(task.get("id") or 0), doc_id=doc_id, text=text)
    latest: dict[str, Mapping[str, Any]] = {}
    for annotation in sorted(submitted(task.get("annotations") or []), key=recency):
        name = annotator_name(annotation)
        if name is not None:
            latest[name] = annotation
    for name in sorted(latest):
        annotation = latest[name]
        try:
            doc, _ = result_to_document(task, annotation.get("result") or [])
        except ConversionError as exc:
            problems.append(f"task {team.task_id} annotation #{annotation.get('id')} by {name}: {exc}")
            continue
        team.documents[name] = doc
        team.annotation_ids[name] = int(annotation.get("id") or 0)
        if annotation.get("ground_truth"):
            team.ground_truth = name
    first = latest[min(latest)] if latest else None
    prediction = baseline(task, first, project_version)
    if prediction is not None:
        try:
            team.prelabel, _ = result_to_document(task, prediction.get("result") or [])
            team.prelabel_version = prediction.get("model_version")
        except ConversionError:
            problems.append(f"task {team.task_id} ({doc_id}): its prediction could not be read back")
    return team


def project_teams(client: LabelStudioClient, project_ref: str) -> tuple[dict[str, Any], list[TeamTask], list[str]]:
    """(project, the per-annotator view of every annotated task, problems) of a Label Studio project."""
    project = client.require_project(project_ref)
    problems: list[str] = []
    teams = [team_task(t, project.get("model_version") or None, problems)
             for t in sorted(client.export_snapshot(int(project["id"])), key=lambda t: int(t.get("id") or 0))]
    return project, teams, problems
