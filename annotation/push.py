"""``sourcemark ls push``: put articles and the model's pre-annotations into a Label Studio project.

Idempotent and resumable by construction: before importing anything, push
reads which ``doc_id`` already has a task and which (task, model_version)
already has a prediction, and only sends what is missing. Work goes out in
chunks, each committed by the server on its own, so an interrupted push
loses at most one chunk and a re-run picks up where it stopped:

* a new ``doc_id`` becomes a task with its prediction;
* an existing task without a prediction of this model version gets one added
  (a retrained model's predictions sit next to the old ones);
* an existing task that already has this version's prediction is skipped
  (with ``--model``, before scoring, so a re-run does not re-score).

Each task carries ``data.uncertainty`` (mean 1 - top role probability) and
each prediction a ``score`` of 1 - uncertainty; after a push the project's
``model_version`` is set to the pushed version, so Label Studio's
"Uncertainty sampling" serves the most uncertain article first. Every push
makes sure the project has the Data Manager tab "Most uncertain first"
(``views.py``); a project push creates gets the guide's definitions as its
labelling instructions (``instructions.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from sourcemark.annotation.client import LabelStudioClient, check_project_config
from sourcemark.annotation.config import DOC_ID_KEY, label_config
from sourcemark.annotation.convert import document_to_prediction, document_to_task
from sourcemark.annotation.instructions import instructions_html
from sourcemark.annotation.views import ensure_uncertain_first_view
from sourcemark.streaming import chunked
from sourcemark.documents import Document, FormatError
from sourcemark.jsonl import iter_jsonl
from sourcemark.command_errors import CommandError
from sourcemark.model.annotator import Annotator
from sourcemark.readers import DEFAULT_MAX_CHARS, ReadError, read_inputs

DEFAULT_CHUNK = 50
#: Project sampling set on projects that push creates.
UNCERTAINTY_SAMPLING = "Uncertainty sampling"

#: Scores a chunk of documents (a loaded model's ``annotate``), or None to push tasks only.
Scorer = Callable[[list[Document]], list[Document]]


@dataclass
class PushStats:
    """What a push did; ``failed`` lists one line per document that was not pushed."""

    project_id: int = 0
    project_created: bool = False
    tasks_created: int = 0
    predictions_added: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    model_versions: set[str] = field(default_factory=set)
    #: The version of the last prediction sent; becomes the project's ``model_version``.
    last_version: str | None = None
    #: Annotators per task the project now asks for (``--overlap``), when set by this push.
    overlap: int | None = None


@dataclass
class ProjectIndex:
    """What the project already holds: task id per doc_id, and (task id, model version) pairs."""

    task_ids: dict[str, int] = field(default_factory=dict)
    versions: set[tuple[int, str]] = field(default_factory=set)
    duplicates: int = 0

    @classmethod
    def read(cls, client: LabelStudioClient, project_id: int) -> "ProjectIndex":
        index = cls()
        for task in client.iter_tasks(project_id):
            doc_id = (task.get("data") or {}).get(DOC_ID_KEY)
            if not isinstance(doc_id, str):
                continue
            if doc_id in index.task_ids:
                index.duplicates += 1  # made outside sourcemark; the first task is the one we use
                continue
            index.task_ids[doc_id] = int(task["id"])
        for prediction in client.list_predictions(project_id):
            index.versions.add((int(prediction["task"]), str(prediction.get("model_version"))))
        return index

    def needs(self, doc_id: str, version: str | None) -> bool:
        """Whether pushing this document (with this model version) would change anything."""
        task = self.task_ids.get(doc_id)
        if task is None:
            return True
        return version is not None and (task, version) not in self.versions


def open_project(client: LabelStudioClient, ref: str, create: bool) -> tuple[dict, bool]:
    """Find the project (checking its config) or, with ``create``, make it. Returns (project, created)."""
    project = client.find_project(ref)
    if project is not None:
        check_project_config(project)
        return project, False
    if not create:
        client.require_project(ref)  # raises the "no such project" error
    if str(ref).strip().isdigit():
        raise ValueError(f"--create needs a project title, not an id ({ref})")
    config = label_config()
    client.validate_config(config)
    # the guide's definitions, shown to annotators before they label (and under "Instructions")
    project = client.create_project(str(ref).strip(), config, sampling=UNCERTAINTY_SAMPLING,
                                    description="Passage roles and attributed sources (sourcemark)",
                                    expert_instruction=instructions_html(), show_instruction=True)
    return project, True


def read_predictions(paths: Iterable[str]) -> Iterator[Document | ReadError]:
    """Predicted documents from prediction files (``sourcemark score --out``), streaming.

    Unlike ``read_inputs`` (which reads articles and drops passages), this
    keeps passages, scores and ``model_version``. A bad line or a document
    without ``model_version`` is a ReadError, reported while the rest goes on.
    """
    for path in paths:
        try:
            for record in iter_jsonl(path):
                if record.error:
                    yield ReadError(record.where, record.error)
                    continue
                try:
                    doc = Document.from_dict(record.value)
                except FormatError as exc:
                    yield ReadError(record.where, str(exc))
                    continue
                if not doc.model_version:
                    yield ReadError(record.where, "no model_version: not a predictions file", doc.doc_id)
                    continue
                yield doc
        except OSError as exc:
            yield ReadError(str(path), f"cannot read: {exc.strerror or exc}")


def push_documents(
    client: LabelStudioClient,
    project_ref: str,
    documents: Iterable[Document | ReadError],
    scorer: Scorer | None = None,
    model_version: str | None = None,
    create: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
    echo: Callable[[str], None] = lambda m: None,
    overlap: int | None = None,
) -> PushStats:
    """Push documents (predicted ones, or raw ones scored chunk by chunk by ``scorer``).

    ``overlap`` (``--overlap N``): every task of the project is meant for N
    annotators (see :func:`set_overlap`).

    ``model_version`` is the scorer's version (known before scoring, so that
    documents that already have its prediction are not scored again). Without
    a scorer, a document's own ``model_version`` and passages are its
    prediction; a document without ``model_version`` is pushed as a bare task.
    """
    stats = PushStats()
    project, stats.project_created = open_project(client, project_ref, create)
    stats.project_id = int(project["id"])
    if overlap is not None:
        stats.overlap = set_overlap(client, project, overlap)
    ensure_uncertain_first_view(client, stats.project_id)
    index = ProjectIndex.read(client, stats.project_id)
    if index.duplicates:
        echo(f"warning: project {stats.project_id} has {index.duplicates} task(s) with a doc_id already used by "
             "another task; predictions go to the first")
    seen: set[str] = set()
    for chunk in chunked(documents, chunk_size):
        todo: list[Document] = []
        for item in chunk:
            if isinstance(item, ReadError):
                stats.failed.append(str(item))
                continue
            if item.doc_id in seen:
                stats.failed.append(f"{item.doc_id}: duplicate doc_id in the input, pushed once")
                continue
            seen.add(item.doc_id)
            version = model_version if scorer is not None else item.model_version
            if index.needs(item.doc_id, version):
                todo.append(item)
            else:
                stats.skipped += 1
        if scorer is not None and todo:
            todo = _score(scorer, todo, stats)
        _send_chunk(client, stats, index, todo)
        echo(f"pushed {stats.tasks_created} new task(s), {stats.predictions_added} prediction(s) to existing "
             f"tasks, {stats.skipped} already there")
    if stats.last_version:
        client.update_project(stats.project_id, model_version=stats.last_version)
    return stats


def _score(scorer: Scorer, docs: list[Document], stats: PushStats) -> list[Document]:
    try:
        return scorer(docs)
    except Exception:  # noqa: BLE001 - isolate the bad document, keep the rest
        pass
    out = []
    for doc in docs:
        try:
            out += scorer([doc])
        except Exception as exc:  # noqa: BLE001
            stats.failed.append(f"{doc.doc_id}: scoring failed: {type(exc).__name__}: {exc}")
    return out


def _send_chunk(client: LabelStudioClient, stats: PushStats, index: ProjectIndex, docs: Sequence[Document]) -> None:
    new_docs = [d for d in docs if d.doc_id not in index.task_ids]
    new_ids = {d.doc_id for d in new_docs}
    if new_docs:
        tasks = [document_to_task(d) for d in new_docs]
        ids = client.import_tasks(stats.project_id, tasks)
        if len(ids) != len(new_docs):
            raise RuntimeError(f"Label Studio created {len(ids)} tasks for {len(new_docs)} documents")
        for doc, task_id in zip(new_docs, ids):
            index.task_ids[doc.doc_id] = task_id
            if doc.model_version:
                index.versions.add((task_id, doc.model_version))
                stats.model_versions.add(doc.model_version)
                stats.last_version = doc.model_version
        stats.tasks_created += len(new_docs)
    predictions = []
    for doc in docs:
        if doc.doc_id in new_ids or not doc.model_version:
            continue
        task_id = index.task_ids[doc.doc_id]
        if (task_id, doc.model_version) in index.versions:
            stats.skipped += 1
            continue
        predictions.append({"task": task_id, **document_to_prediction(doc)})
    if predictions:
        stats.predictions_added += client.import_predictions(stats.project_id, predictions)
        for p in predictions:
            index.versions.add((p["task"], p["model_version"]))
            stats.model_versions.add(p["model_version"])
            stats.last_version = p["model_version"]


def set_overlap(client: LabelStudioClient, project: dict, annotators: int) -> int:
    """Ask for ``annotators`` submitted annotations on every task of the project; return that number.

    Label Studio Community 1.23.2 honours the project's ``maximum_annotations``
    with ``overlap_cohort_percentage`` 100 (checked against the real server):
    each task's ``overlap`` becomes N, its labelling queue serves a task to N
    different annotators (never twice to the same one), and a task counts as
    completed only when N annotations are in. Tasks imported later get N too.
    The project is updated only when it asks for something else, because each
    change makes the server recompute every task's state.
    """
    if annotators < 1:
        raise ValueError(f"--overlap must be at least 1, got {annotators}")
    if project.get("maximum_annotations") != annotators or project.get("overlap_cohort_percentage") != 100:
        client.update_project(int(project["id"]), maximum_annotations=annotators, overlap_cohort_percentage=100)
    return annotators


@dataclass(frozen=True)
class PushJob:
    """What ``sourcemark ls push`` is asked to push: raw articles (scored with a model, or bare) or a predictions file."""

    project: str
    inputs: tuple[str, ...] = ()
    predictions: tuple[str, ...] = ()
    model_dir: Path | None = None
    create: bool = False
    chunk_size: int = DEFAULT_CHUNK
    max_chars: int = DEFAULT_MAX_CHARS
    overlap: int | None = None


def check_job(job: PushJob) -> None:
    if job.overlap is not None and job.overlap < 1:
        raise CommandError(f"--overlap must be at least 1 (annotators per task), got {job.overlap}")
    if job.model_dir is not None and job.predictions:
        raise CommandError("give --model (score INPUT) or --predictions (push a scored file), not both")
    if job.predictions and job.inputs:
        raise CommandError("with --predictions, the documents come from the predictions file: drop INPUT")
    if not job.predictions and not job.inputs:
        raise CommandError("nothing to push: give INPUT articles or --predictions FILE")


def run_push(client: LabelStudioClient, job: PushJob, echo: Callable[[str], None] = lambda m: None) -> PushStats:
    """Check the job, load its model if any, read its documents and push them (see :func:`push_documents`)."""
    check_job(job)
    scorer, version = None, None
    if job.model_dir is not None:
        annotator = Annotator.load(job.model_dir)
        scorer, version = (lambda docs: list(annotator.annotate(docs, docs_per_chunk=len(docs)))), \
            annotator.model_version
    documents = read_predictions(job.predictions) if job.predictions else \
        read_inputs(list(job.inputs), max_chars=job.max_chars)
    return push_documents(client, job.project, documents, scorer=scorer, model_version=version,
                          create=job.create, chunk_size=job.chunk_size, echo=echo, overlap=job.overlap)
