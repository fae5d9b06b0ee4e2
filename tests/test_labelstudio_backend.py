"""The ML backend registered in a real Label Studio, and the whole loop: push, correct, pull, retrain, push."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sourcemark.annotation.backend import Backend, BackendConfig
from sourcemark.annotation.client import LabelStudioClient
from sourcemark.annotation.config import label_config
from sourcemark.annotation.pull import pull_corrections
from sourcemark.annotation.push import push_documents
from sourcemark.jsonl import read_documents
from sourcemark.model.annotator import Annotator

from conftest import tiny_config
from test_labelstudio_support import (  # noqa: F401 - fixtures
    ServedBackend, ls_client, ls_settings, project_name, raw_documents, tasks_of, write_corpus,
)

pytestmark = pytest.mark.labelstudio


def register(ls_client: LabelStudioClient, project_id: int, url: str) -> int:
    """Connect the backend the way a user would, through the SDK (``ls.ml.create``)."""
    from label_studio_sdk import LabelStudio

    ls = LabelStudio(base_url=ls_client.url, api_key=ls_client.settings.token.reveal())
    ml = ls.ml.create(url=url, project=project_id, title="sourcemark", is_interactive=False)
    return int(ml.id)


def retrieve_predictions(ls_client: LabelStudioClient, project_id: int) -> dict:
    """The Data Manager's "Retrieve predictions" action on all tasks."""
    return ls_client.request("POST", "/api/dm/actions/", params={"id": "retrieve_tasks_predictions",
                                                                 "project": project_id},
                             json={"selectedItems": {"all": True, "excluded": []}})


def correct(ls_client: LabelStudioClient, task: dict, role: str) -> None:
    """An annotator's correction: the prediction's passages, all relabelled ``role``, mentions kept."""
    result = []
    for region in task["predictions"][0]["result"]:
        value = dict(region["value"])
        if region["from_name"] == "role":
            value["labels"] = [role]
        result.append({k: v for k, v in region.items() if k not in ("score", "value")} | {"value": value})
    ls_client.create_annotation(task["id"], result, was_cancelled=False)


def test_ml_backend_answers_predictions_requests_from_the_server(
        ls_client: LabelStudioClient, project_name: str, trained, tmp_path: Path) -> None:
    project = ls_client.create_project(project_name, label_config())
    push_documents(ls_client, project_name, raw_documents(3, seed=31))  # bare tasks, no predictions
    backend = Backend(BackendConfig(model_dir=trained[0], work_dir=tmp_path / "serve"))
    with ServedBackend(backend) as served:
        ml_id = register(ls_client, project["id"], served.url)
        state = ls_client.request("GET", f"/api/ml/{ml_id}")
        assert state["state"] == "CO", state.get("error_message")
        retrieve_predictions(ls_client, project["id"])
        tasks = tasks_of(ls_client, project["id"])
        assert len(tasks) == 3
        for task in tasks:
            (prediction,) = task["predictions"]
            assert prediction["model_version"] == backend.model_version
            assert {r["from_name"] for r in prediction["result"]} >= {"role"}
            assert all("score" in r for r in prediction["result"])


def test_round_trip_push_correct_pull_retrain_push(
        ls_client: LabelStudioClient, project_name: str, trained, tiny_backbone: Path, tmp_path: Path) -> None:
    from sourcemark.training.pipeline import train_model

    annotator = Annotator.load(trained[0])
    docs = raw_documents(4, seed=32)
    stats = push_documents(ls_client, project_name, docs, create=True, model_version=annotator.model_version,
                           scorer=lambda batch: list(annotator.annotate(batch)))
    project_id = stats.project_id
    data, dev = write_corpus(tmp_path)
    backend = Backend(BackendConfig(model_dir=trained[0], work_dir=tmp_path / "serve", data=[data], dev=[dev],
                                    bootstrap=10, train_overrides={"epochs": 1}))
    with ServedBackend(backend) as served:
        ml_id = register(ls_client, project_id, served.url)
        tasks = {t["data"]["doc_id"]: t for t in tasks_of(ls_client, project_id)}
        for doc in docs[:2]:
            correct(ls_client, tasks[doc.doc_id], "analysis")  # each one a webhook to the backend

        # the corrections come back through pull ...
        pulled = tmp_path / "corrected.jsonl"
        report = pull_corrections(ls_client, str(project_id), pulled)
        assert report.written == 2
        assert all({p.label for p in d.passages} == {"analysis"} for d in read_documents(pulled))

        # ... retrain on them (the `sourcemark train --corrected` path) and push the new version
        result = train_model(tmp_path / "retrained", tiny_config(tiny_backbone, epochs=1), data=[data], dev=[dev],
                             corrected=[str(pulled)], bootstrap=10, progress=False, log=lambda m: None)
        assert result.counts["corrected_documents"] == 2
        retrained = Annotator.load(result.out_dir)
        assert retrained.model_version != annotator.model_version
        again = push_documents(ls_client, str(project_id), docs, model_version=retrained.model_version,
                               scorer=lambda batch: list(retrained.annotate(batch)))
        assert (again.tasks_created, again.predictions_added) == (0, 4)
        for task in tasks_of(ls_client, project_id):
            versions = sorted(p["model_version"] for p in task["predictions"])
            assert versions == sorted([annotator.model_version, retrained.model_version])
        assert ls_client.get_project(project_id)["model_version"] == retrained.model_version

        # the backend heard the annotations through Label Studio's webhook; "Start Training" retrains it
        deadline = time.time() + 10
        while len(backend.store.tasks) < 2 and time.time() < deadline:
            time.sleep(0.2)
        assert len(backend.store.documents()[0]) == 2
        served_before = backend.model_version
        ls_client.request("POST", f"/api/ml/{ml_id}/train", json={})
        assert backend.wait_for_training(240) and backend.training["last_error"] is None
        assert backend.model_version != served_before
        retrieve_predictions(ls_client, project_id)
        for task in tasks_of(ls_client, project_id):
            assert backend.model_version in {p["model_version"] for p in task["predictions"]}
