"""``sourcemark serve``: the model as a Label Studio ML backend, retraining itself on corrections.

Label Studio's ML backend protocol, implemented with FastAPI:

* ``GET /health``: ``{"status": "UP", ...}`` (Label Studio allows one second).
* ``POST /setup``: Label Studio connects a project; we check its labelling
  config and answer the ``model_version`` predictions will carry.
* ``POST /predict``: ``{"tasks": [...]}`` -> ``{"results": [one prediction per
  task]}``, each ``{"result": regions, "score", "model_version"}``; this is
  what "Retrieve predictions" in the Data Manager and the labelling screen use.
  A task that is not a JSON object, or whose ``data`` is not one, is answered
  422 naming the task. One request may carry at most ``MAX_TASKS_PER_REQUEST``
  (500) tasks and ``MAX_TEXT_CHARS_PER_REQUEST`` (500,000) characters of task
  text in all, about 25 s of CPU time, well inside Label Studio's 100 s
  ``ML_TIMEOUT_PREDICT``; a larger one is answered 413 (select fewer tasks).
* ``POST /webhook``: Label Studio registers it for the project when the backend
  is added and sends every event there. ``ANNOTATION_CREATED/UPDATED`` (and
  the bulk form) store the annotation as a correction, ``ANNOTATIONS_DELETED``
  forgets it, ``START_TRAINING`` ("Start Training" in the model settings)
  retrains. With ``--retrain-every N``, every N new annotations retrain too.
* ``POST /train``: the older protocol's training call (tasks with their
  annotations in the body), kept so both server generations work.
* ``GET /versions``: the model versions this backend has served.

Requests are served by a pool of threads, but the model runs one request at a
time (torch already spreads one request over the cores, so running two at once
gains nothing, and the tokenizer makes no promise to be safe to share between
threads); the others wait their turn. At most ``MAX_PENDING_PREDICTIONS`` (32)
prediction requests run or wait at once, fewer than the server's 40 request
threads, so ``/health`` and the webhooks always find a free thread; one more is
answered 503 with ``Retry-After``. The 413, 422 and 503 answers of
``/predict`` carry ``{"error": message}`` (a body that is not a JSON object
gets FastAPI's own 422).

Retraining runs in one background thread: ``train_model`` with the served
model's own training config, the configured corpus and the stored corrections
(weighted up), into ``WORK_DIR/models/gen-N``. Predictions keep coming from
the old model while it trains; when the new one is saved and loads, it is
swapped in and from then on predictions carry its ``model_version``. Events
that arrive during a run are kept and trigger one more run afterwards.
Webhooks answer at once (Label Studio gives them one second).

Corrections are stored per task with every submitted annotation, and the
document used is chosen by the same rule as ``ls pull`` (ground truth first,
then latest), in ``WORK_DIR/corrections.json``, so they survive a restart.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from sourcemark.annotation.config import DOC_ID_KEY, TEXT_KEY, config_problems
from sourcemark.annotation.convert import ConversionError, document_to_prediction, result_to_document
from sourcemark.annotation.pull import choose_annotation, submitted
from sourcemark.bundled import BUNDLED
from sourcemark.documents import Document
from sourcemark.jsonl import atomic_output, write_documents
from sourcemark.model.annotator import Annotator
from sourcemark.training.config import TrainConfig
from sourcemark.training.pipeline import train_model

log = logging.getLogger("sourcemark.serve")

ANNOTATION_EVENTS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED")

#: Most tasks one /predict request may carry.
MAX_TASKS_PER_REQUEST = 500
#: Most characters of task text, all tasks together, one /predict request may carry: the model scores
#: about 20,000 characters a second on two cores (bench/results/score_throughput_torch.json), so the
#: largest request takes about 25 s.
MAX_TEXT_CHARS_PER_REQUEST = 500_000
#: Most /predict requests running or waiting for the model at once; kept below the 40 threads FastAPI
#: runs plain endpoints in, so requests waiting for the model cannot take the threads /health needs.
MAX_PENDING_PREDICTIONS = 32
#: Seconds a client turned away as busy is asked to wait before it retries.
BUSY_RETRY_AFTER = 5


class PredictError(ValueError):
    """A /predict request the backend will not run: the HTTP status and the one-line reason."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})


def _task_texts(tasks: Any) -> list[str | None]:
    """Each task's text (None for a task without one); PredictError for a request of the wrong shape or size."""
    if not isinstance(tasks, list):
        raise PredictError(422, f"'tasks' must be a list of task objects, not {_json_type(tasks)}")
    if len(tasks) > MAX_TASKS_PER_REQUEST:
        raise PredictError(413, f"{len(tasks)} tasks in one request; the limit is {MAX_TASKS_PER_REQUEST}: "
                                "ask for predictions on fewer tasks at a time")
    texts: list[str | None] = []
    for i, task in enumerate(tasks):
        if not isinstance(task, Mapping):
            raise PredictError(422, f"task {i} is {_json_type(task)}, not a task object")
        data = task.get("data")
        if data is not None and not isinstance(data, Mapping):
            raise PredictError(422, f"task {i} (id {task.get('id')}): 'data' is {_json_type(data)}, "
                                    "not an object")
        text = (data or {}).get(TEXT_KEY)
        texts.append(text if isinstance(text, str) and text.strip() else None)
    total = sum(len(t) for t in texts if t)
    if total > MAX_TEXT_CHARS_PER_REQUEST:
        raise PredictError(413, f"{total} characters of task text in one request; the limit is "
                                f"{MAX_TEXT_CHARS_PER_REQUEST}: ask for predictions on fewer tasks at a time")
    return texts


def _json_type(value: Any) -> str:
    """What a JSON value is, for an error message (never the value itself: it may be a whole article)."""
    names = {str: "a string", list: "a list", bool: "a boolean", int: "a number", float: "a number",
             type(None): "null"}
    return names.get(type(value), "an object" if isinstance(value, Mapping) else type(value).__name__)


@dataclass
class BackendConfig:
    """How to serve and how to retrain."""

    model_dir: Path
    work_dir: Path | None = None
    data: list[str] = field(default_factory=lambda: [BUNDLED])
    dev: list[str] = field(default_factory=lambda: [BUNDLED])
    retrain_every: int = 0
    bootstrap: int = 200
    #: TrainConfig fields to change for retraining (tests: fewer epochs, one thread).
    train_overrides: dict[str, Any] = field(default_factory=dict)

    def resolved_work_dir(self) -> Path:
        if self.work_dir is not None:
            return Path(self.work_dir)
        model = Path(self.model_dir).resolve()
        return model.parent / f"{model.name}-serve"


class CorrectionStore:
    """Submitted annotations per task, kept on disk; the corrected documents derived from them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tasks: dict[str, dict[str, Any]] = {}
        if path.is_file():
            self.tasks = json.loads(path.read_text(encoding="utf-8"))

    @staticmethod
    def key(task: Mapping[str, Any]) -> str:
        return f"{task.get('project')}:{task.get('id')}"

    def add(self, task: Mapping[str, Any], annotation: Mapping[str, Any]) -> bool:
        """Store an annotation event; True if it is a submitted (not skipped) annotation."""
        entry = self.tasks.setdefault(self.key(task), {"task": {}, "annotations": {}})
        entry["task"] = {k: task.get(k) for k in ("id", "project", "data", "meta")}
        fields = ("id", "result", "was_cancelled", "ground_truth", "created_at", "updated_at", "completed_by")
        entry["annotations"][str(annotation.get("id"))] = {k: annotation.get(k) for k in fields}
        self._save()
        return bool(submitted([annotation]))

    def remove(self, annotation_ids: set[str]) -> None:
        for entry in self.tasks.values():
            for annotation_id in annotation_ids & set(entry["annotations"]):
                del entry["annotations"][annotation_id]
        self._save()

    def documents(self) -> tuple[list[Document], list[str]]:
        """The corrected documents (one per task) and the reasons for tasks left out."""
        docs, problems = [], []
        for entry in self.tasks.values():
            candidates = submitted(entry["annotations"].values())
            if not candidates:
                continue
            try:
                doc, _ = result_to_document(entry["task"], choose_annotation(candidates)["result"])
                docs.append(doc)
            except ConversionError as exc:
                problems.append(str(exc))
        return docs, problems

    def _save(self) -> None:
        with atomic_output(self.path) as handle:
            json.dump(self.tasks, handle, ensure_ascii=False)


class Backend:
    """The served model, the corrections and the retraining thread."""

    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self.work_dir = config.resolved_work_dir()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.annotator = Annotator.load(config.model_dir)
        self.versions: list[str] = [self.annotator.model_version]
        self.store = CorrectionStore(self.work_dir / "corrections.json")
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()  # one prediction request on the model at a time
        self._max_pending = MAX_PENDING_PREDICTIONS
        self._pending_predictions = threading.BoundedSemaphore(self._max_pending)
        self._thread: threading.Thread | None = None
        self._pending = False
        self._new_annotations = 0
        self.training: dict[str, Any] = {"state": "idle", "runs": 0, "last_error": None, "last_reason": None}

    @property
    def model_version(self) -> str:
        return self.annotator.model_version

    # ------------------------------------------------------------------ predictions

    def predict(self, tasks: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One prediction per task, in order (an empty one for a task without text).

        PredictError for tasks of the wrong shape, too many or too long, or when
        ``MAX_PENDING_PREDICTIONS`` requests are already running or waiting.
        """
        texts = _task_texts(tasks)
        docs, slots = [], []
        for i, (task, text) in enumerate(zip(tasks, texts)):
            if text is not None:
                docs.append(Document(str(task["data"].get(DOC_ID_KEY) or f"ls-task-{task.get('id')}"), text))
                slots.append(i)
        if not self._pending_predictions.acquire(blocking=False):
            raise PredictError(503, f"the backend is busy with {self._max_pending} prediction request(s): "
                                    "retry later", {"Retry-After": str(BUSY_RETRY_AFTER)})
        try:
            with self._model_lock:
                annotator = self.annotator  # one model for the whole request, even if a swap happens meanwhile
                results: list[dict[str, Any]] = [
                    {"result": [], "score": 0.0, "model_version": annotator.model_version} for _ in tasks]
                for i, doc in zip(slots, annotator.annotate(docs)):
                    results[i] = document_to_prediction(doc, annotator.model_version)
        finally:
            self._pending_predictions.release()
        return results

    # ------------------------------------------------------------------ events

    def handle_event(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        action = str(payload.get("action") or "")
        if action in ANNOTATION_EVENTS:
            annotations = payload.get("annotation")
            tasks = payload.get("task")
            if isinstance(annotations, Mapping):
                annotations, tasks = [annotations], [tasks]
            count = 0
            for annotation, task in zip(annotations or [], tasks or []):
                if isinstance(annotation, Mapping) and isinstance(task, Mapping):
                    count += self.store.add(task, annotation)
            with self._lock:
                self._new_annotations += count
                due = self.config.retrain_every and self._new_annotations >= self.config.retrain_every
            if due:
                return {"status": "ok", "stored": count, **self.start_training(f"{action} x{count}")}
            return {"status": "ok", "stored": count}
        if action == "ANNOTATIONS_DELETED":
            ids = {str(a.get("id")) for a in payload.get("annotations") or [] if isinstance(a, Mapping)}
            self.store.remove(ids)
            return {"status": "ok", "removed": len(ids)}
        if action == "START_TRAINING":
            return {"status": "ok", **self.start_training("START_TRAINING")}
        return {"status": "ignored", "action": action}

    def handle_train(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The older protocol: all annotated tasks in the body."""
        for task in body.get("annotations") or []:
            for annotation in task.get("annotations") or []:
                self.store.add({**task, "project": task.get("project") or body.get("project")}, annotation)
        return self.start_training("train request")

    # ------------------------------------------------------------------ retraining

    def start_training(self, reason: str) -> dict[str, Any]:
        """Start a retraining run in the background, or queue one if a run is going on."""
        with self._lock:
            self._new_annotations = 0
            self.training["last_reason"] = reason
            if self._thread is not None and self._thread.is_alive():
                self._pending = True
                return {"training": "queued"}
            self._thread = threading.Thread(target=self._train_loop, name="sourcemark-retrain", daemon=True)
            self.training["state"] = "training"
            self._thread.start()
            return {"training": "started", "job_id": f"retrain-{self.training['runs'] + 1}"}

    def wait_for_training(self, timeout: float = 600.0) -> bool:
        """Block until no run is going on (tests and shutdown); True if idle."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            thread = self._thread
            if thread is None or not thread.is_alive():
                return True
            thread.join(timeout=0.2)
        return False

    def _train_loop(self) -> None:
        while True:
            try:
                self._train_once()
                self.training["last_error"] = None
            except Exception as exc:  # noqa: BLE001 - a failed run must not kill the server
                log.exception("retraining failed")
                self.training["last_error"] = f"{type(exc).__name__}: {exc}"
            with self._lock:
                if not self._pending:
                    self.training["state"] = "idle"
                    return
                self._pending = False

    def _train_once(self) -> None:
        docs, problems = self.store.documents()
        for problem in problems:
            log.warning("correction left out of training: %s", problem)
        if not docs:
            raise RuntimeError("no valid corrections stored yet: nothing to retrain on")
        run = self.training["runs"] + 1
        corrected = self.work_dir / f"corrections-{run}.jsonl"
        write_documents(corrected, docs)
        saved = dict(self.annotator.settings.training.get("config") or {})
        saved.update(self.config.train_overrides)
        config = TrainConfig(**{k: v for k, v in saved.items() if k in TrainConfig.__dataclass_fields__})
        out = self.work_dir / "models" / f"gen-{run}"
        log.info("retraining run %d on %d corrected document(s) into %s", run, len(docs), out)
        result = train_model(out, config, data=self.config.data, dev=self.config.dev, corrected=[str(corrected)],
                             bootstrap=self.config.bootstrap, progress=False, log=log.info)
        fresh = Annotator.load(result.out_dir)
        self.annotator = fresh  # the swap: later requests use the new model
        self.versions.append(fresh.model_version)
        self.training["runs"] = run
        log.info("now serving %s", fresh.model_version)

    def status(self) -> dict[str, Any]:
        return {"status": "UP", "model_class": "sourcemark", "model_version": self.model_version,
                "training": dict(self.training), "corrections": len(self.store.tasks)}


def create_app(backend: Backend) -> Any:
    """The FastAPI application for one Backend."""
    # lazy: only `sourcemark serve` needs the web stack, every other command starts faster without it
    from fastapi import Body, FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI(title="sourcemark ML backend", docs_url=None, redoc_url=None)

    @app.get("/")
    @app.get("/health")
    def health() -> dict[str, Any]:
        return backend.status()

    @app.post("/setup")
    def setup(body: dict = Body(default_factory=dict)) -> Any:
        # the body also holds the project owner's access token: never log it
        problems = config_problems(str(body.get("schema") or ""))
        if problems:
            return JSONResponse({"error": "labelling config does not match sourcemark's: " + "; ".join(problems)},
                                status_code=400)
        return {"model_version": backend.model_version}

    @app.post("/predict")
    def predict(body: dict = Body(default_factory=dict)) -> Any:
        try:
            results = backend.predict(body.get("tasks") or [])
        except PredictError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=exc.headers)
        return {"results": results, "model_version": backend.model_version}

    @app.post("/webhook")
    def webhook(body: dict = Body(default_factory=dict)) -> dict[str, Any]:
        return backend.handle_event(body)

    @app.post("/train")
    def train(body: dict = Body(default_factory=dict)) -> dict[str, Any]:
        return backend.handle_train(body)

    @app.get("/versions")
    def versions() -> dict[str, Any]:
        return {"versions": list(backend.versions), "model_version": backend.model_version}

    return app


def run(config: BackendConfig, host: str = "127.0.0.1", port: int = 9090) -> None:
    """Load the model, then serve until interrupted (the model loads before the port opens)."""
    import uvicorn  # lazy, as fastapi above

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    backend = Backend(config)
    log.info("serving %s from %s on http://%s:%d", backend.model_version, config.model_dir, host, port)
    uvicorn.run(create_app(backend), host=host, port=port, log_level="info")
