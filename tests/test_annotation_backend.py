"""The ML backend's protocol endpoints and background retraining, without a Label Studio server."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from sourcemark.annotation import backend as backend_module
from sourcemark.annotation.backend import (
    MAX_TASKS_PER_REQUEST, MAX_TEXT_CHARS_PER_REQUEST, Backend, BackendConfig, create_app,
)
from sourcemark.annotation.config import label_config
from sourcemark.annotation.convert import document_to_result, document_to_task
from sourcemark.model.annotator import SETTINGS_FILE

from synthetic import synthetic_documents


@pytest.fixture
def backend(trained, tmp_path: Path) -> Backend:
    return Backend(BackendConfig(model_dir=trained[0], work_dir=tmp_path / "work"))


def annotation_event(doc, task_id: int, annotation_id: int, action: str = "ANNOTATION_CREATED", **fields) -> dict:
    task = {"id": task_id, "project": 1, **document_to_task(doc, prediction=False)}
    annotation = {"id": annotation_id, "result": document_to_result(doc), "was_cancelled": False,
                  "ground_truth": False, "updated_at": "2026-01-01T00:00:00Z", **fields}
    return {"action": action, "task": task, "annotation": annotation, "project": {"id": 1}}


def test_health_setup_predict(backend: Backend) -> None:
    client = TestClient(create_app(backend))
    health = client.get("/health").json()
    assert health["status"] == "UP" and health["model_version"] == backend.model_version
    assert client.post("/setup", json={"project": "1.1", "schema": label_config(),
                                       "access_token": "secret"}).json() == {"model_version": backend.model_version}
    bad = client.post("/setup", json={"project": "1.1", "schema": "<View><Text name='x' value='$x'/></View>"})
    assert bad.status_code == 400 and "does not match" in bad.json()["error"]

    docs = synthetic_documents(2, seed=5)
    tasks = [{"id": 1, "data": {"text": docs[0].text, "doc_id": docs[0].doc_id}},
             {"id": 2, "data": {"image": "x.png"}},
             {"id": 3, "data": {"text": docs[1].text}}]
    body = client.post("/predict", json={"tasks": tasks, "project": "1.1", "label_config": label_config()}).json()
    results = body["results"]
    assert len(results) == 3
    assert results[1]["result"] == []
    for r in (results[0], results[2]):
        assert r["model_version"] == backend.model_version and 0 <= r["score"] <= 1
        assert r["result"] and all(x["to_name"] == "text" for x in r["result"])
    assert client.post("/webhook", json={"action": "PROJECT_UPDATED"}).json()["status"] == "ignored"


def test_predict_answers_422_naming_a_malformed_task(backend: Backend) -> None:
    client = TestClient(create_app(backend))
    text = synthetic_documents(1, seed=9)[0].text
    cases = {
        "task 1 is a string, not a task object": [{"id": 1, "data": {"text": text}}, "just a string"],
        "task 0 (id 7): 'data' is a list, not an object": [{"id": 7, "data": [text]}],
        "task 0 is a list, not a task object": [[{"id": 1}]],
        "'tasks' must be a list of task objects, not a string": "tasks",
    }
    for message, tasks in cases.items():
        answer = client.post("/predict", json={"tasks": tasks})
        assert (answer.status_code, answer.json()) == (422, {"error": message})
    assert client.post("/predict", json={"tasks": [{"id": 1}, {"id": 2, "data": None}]}).status_code == 200


def test_predict_answers_413_over_the_documented_limits(backend: Backend, monkeypatch) -> None:
    client = TestClient(create_app(backend))
    hint = "ask for predictions on fewer tasks at a time"
    at_limit = [{"id": i, "data": {}} for i in range(MAX_TASKS_PER_REQUEST)]
    assert len(client.post("/predict", json={"tasks": at_limit}).json()["results"]) == MAX_TASKS_PER_REQUEST
    answer = client.post("/predict", json={"tasks": at_limit + [{"id": -1}]})
    assert answer.status_code == 413
    assert answer.json() == {"error": f"{MAX_TASKS_PER_REQUEST + 1} tasks in one request; "
                                      f"the limit is {MAX_TASKS_PER_REQUEST}: {hint}"}
    half = "word " * (MAX_TEXT_CHARS_PER_REQUEST // 10 + 1)
    answer = client.post("/predict", json={"tasks": [{"id": 1, "data": {"text": half}},
                                                     {"id": 2, "data": {"text": half}}]})
    assert answer.status_code == 413
    assert answer.json() == {"error": f"{2 * len(half)} characters of task text in one request; "
                                      f"the limit is {MAX_TEXT_CHARS_PER_REQUEST}: {hint}"}
    # the text limit counts characters of all tasks together, up to and including the limit
    texts = [doc.text for doc in synthetic_documents(2, seed=10)]
    monkeypatch.setattr(backend_module, "MAX_TEXT_CHARS_PER_REQUEST", sum(map(len, texts)))
    tasks = [{"id": i, "data": {"text": t}} for i, t in enumerate(texts)]
    assert client.post("/predict", json={"tasks": tasks}).status_code == 200
    tasks[1]["data"]["text"] += "!"
    assert client.post("/predict", json={"tasks": tasks}).status_code == 413


def test_annotation_events_are_stored_and_deleted(backend: Backend) -> None:
    client = TestClient(create_app(backend))
    doc = synthetic_documents(1, seed=6)[0]
    assert client.post("/webhook", json=annotation_event(doc, 10, 100)).json() == {"status": "ok", "stored": 1}
    skipped = annotation_event(doc, 11, 101, was_cancelled=True)
    assert client.post("/webhook", json=skipped).json()["stored"] == 0
    docs, problems = backend.store.documents()
    assert [d.doc_id for d in docs] == [doc.doc_id] and not problems
    assert json.loads((backend.work_dir / "corrections.json").read_text())["1:10"]
    client.post("/webhook", json={"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 100}]})
    assert backend.store.documents() == ([], [])
    again = Backend(backend.config)
    assert set(again.store.tasks) == {"1:10", "1:11"}, "corrections survive a restart"


def test_training_runs_in_the_background_and_swaps_the_model(backend: Backend, trained, monkeypatch) -> None:
    """Predictions keep coming from the old model while training; then the new version takes over."""
    release, started = threading.Event(), threading.Event()
    seen = {}

    def fake_train_model(out_dir, config, data, dev, corrected, bootstrap, progress, log):
        seen.update(corrected=corrected, config=config, data=data)
        started.set()
        release.wait(30)
        shutil.copytree(trained[0], out_dir)
        settings = json.loads((Path(out_dir) / SETTINGS_FILE).read_text())
        settings["model_version"] = "retrained-1"
        (Path(out_dir) / SETTINGS_FILE).write_text(json.dumps(settings))
        return SimpleNamespace(out_dir=Path(out_dir))
    monkeypatch.setattr("sourcemark.annotation.backend.train_model", fake_train_model)
    client = TestClient(create_app(backend))
    old = backend.model_version
    doc = synthetic_documents(1, seed=7)[0]
    client.post("/webhook", json=annotation_event(doc, 20, 200))
    answer = client.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 1}}).json()
    assert answer["training"] == "started"
    assert started.wait(10)
    task = {"id": 20, "data": {"text": doc.text}}
    assert client.post("/predict", json={"tasks": [task]}).json()["results"][0]["model_version"] == old
    assert client.get("/health").json()["training"]["state"] == "training"
    assert client.post("/webhook", json={"action": "START_TRAINING"}).json()["training"] == "queued"
    release.set()
    assert backend.wait_for_training(60)
    assert backend.model_version == "retrained-1"
    assert client.post("/predict", json={"tasks": [task]}).json()["results"][0]["model_version"] == "retrained-1"
    assert client.get("/versions").json()["versions"] == [old, "retrained-1", "retrained-1"]
    (corrected,) = seen["corrected"]
    assert [json.loads(line)["doc_id"] for line in Path(corrected).read_text().splitlines()] == [doc.doc_id]
    assert seen["config"].base_model == backend.annotator.settings.training["config"]["base_model"]


def test_retrain_every_n_annotations_really_trains(trained, tmp_path: Path) -> None:
    """A real (tiny) retraining run, triggered by the second annotation event."""
    from test_labelstudio_support import write_corpus

    data, dev = write_corpus(tmp_path)
    backend = Backend(BackendConfig(model_dir=trained[0], work_dir=tmp_path / "work", data=[data], dev=[dev],
                                    retrain_every=2, bootstrap=10, train_overrides={"epochs": 1}))
    client = TestClient(create_app(backend))
    old = backend.model_version
    docs = synthetic_documents(2, seed=8)
    assert "training" not in client.post("/webhook", json=annotation_event(docs[0], 1, 1)).json()
    assert client.post("/webhook", json=annotation_event(docs[1], 2, 2)).json()["training"] == "started"
    assert backend.wait_for_training(300)
    assert backend.training["last_error"] is None
    assert backend.model_version != old and backend.model_version.startswith("gen-1-")
    assert (backend.work_dir / "models" / "gen-1" / "MODEL_CARD.md").is_file()


def test_training_without_corrections_reports_why(backend: Backend) -> None:
    client = TestClient(create_app(backend))
    client.post("/webhook", json={"action": "START_TRAINING"})
    assert backend.wait_for_training(30)
    assert "no valid corrections" in backend.training["last_error"]
    assert client.get("/health").json()["training"]["state"] == "idle"
