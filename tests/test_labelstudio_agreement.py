"""Overlap, agreement, conflicts and review tasks against a real Label Studio server.

Two users created through the API annotate the same tasks with planted
differences (annotations submitted on their behalf: ``completed_by``), so
kappa, mention F1 and the conflicts file have values computed by hand.
"""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path

import pytest

from sourcemark.annotation.client import LabelStudioClient
from sourcemark.annotation.convert import document_to_result
from sourcemark.annotation.push import push_documents
from sourcemark.jsonl import read_documents

from test_annotation_agreement import DOC1, DOC2, DOC3, planted
from test_labelstudio_api import cli, cli_env
from test_labelstudio_support import ls_client, ls_settings, project_name, tasks_of  # noqa: F401 - fixtures

pytestmark = pytest.mark.labelstudio

PRELABEL = "prelabel-v1"


def make_user(client: LabelStudioClient, name: str) -> dict:
    tag = uuid.uuid4().hex[:8]
    return client.request("POST", "/api/users/", json={"username": f"{name}-{tag}",
                                                       "email": f"{name}-{tag}@example.org", "first_name": name})


@pytest.fixture
def annotated(ls_client: LabelStudioClient, project_name: str) -> dict:
    """A project pushed with --overlap 2, its three tasks annotated by two API-created users."""
    docs = []
    for doc in (DOC1, DOC2, DOC3):
        pre = read_back(doc)
        pre.model_version = PRELABEL
        docs.append(pre)
    stats = push_documents(ls_client, project_name, docs, create=True, overlap=2)
    assert stats.tasks_created == 3 and stats.overlap == 2
    users = [make_user(ls_client, "ann-a"), make_user(ls_client, "ann-b")]
    tasks = {t["data"]["doc_id"]: t for t in tasks_of(ls_client, stats.project_id)}
    for team in planted():
        for user, who in zip(users, ("a@x.org", "b@x.org")):
            ls_client.create_annotation(tasks[team.doc_id]["id"], document_to_result(team.documents[who]),
                                        completed_by=user["id"])
    return {"project": stats.project_id, "users": users, "tasks": tasks}


def read_back(doc):
    from sourcemark.documents import Document, Passage, SourceMention

    return Document(doc.doc_id, doc.text, {}, [Passage(p.start, p.end, p.label, sources=[
        SourceMention(s.start, s.end, s.type) for s in p.sources]) for p in doc.passages])


def test_overlap_is_honoured_by_community_edition(ls_client: LabelStudioClient, project_name: str) -> None:
    stats = push_documents(ls_client, project_name, [read_back(DOC1), read_back(DOC2)], create=True, overlap=2)
    project = ls_client.get_project(stats.project_id)
    assert (project["maximum_annotations"], project["overlap_cohort_percentage"]) == (2, 100)
    tasks = tasks_of(ls_client, stats.project_id)
    assert [t["overlap"] for t in tasks] == [2, 2], "every task is meant for two annotators"
    first = tasks[0]
    ls_client.create_annotation(first["id"], document_to_result(DOC1))
    after_one = ls_client.request("GET", f"/api/tasks/{first['id']}/")
    assert not after_one["is_labeled"], "one annotation of two: the task is not done"
    nxt = ls_client.request("GET", f"/api/projects/{stats.project_id}/next/")
    assert nxt["id"] != first["id"], "the queue does not serve a task twice to the same annotator"
    other = make_user(ls_client, "ann-c")
    ls_client.create_annotation(first["id"], document_to_result(DOC1), completed_by=other["id"])
    assert ls_client.request("GET", f"/api/tasks/{first['id']}/")["is_labeled"]
    # a later push with --overlap 3 updates the project; a re-push with the same N changes nothing
    again = push_documents(ls_client, str(stats.project_id), [read_back(DOC1)], overlap=3)
    assert again.skipped == 1 and ls_client.get_project(stats.project_id)["maximum_annotations"] == 3


def test_agreement_conflicts_and_review(ls_client: LabelStudioClient, annotated: dict, tmp_path: Path) -> None:
    env = cli_env(ls_client.settings)
    project = str(annotated["project"])
    code, out, err = cli("agreement", "--project", project, "--report", str(tmp_path / "report"),
                         "--bootstrap", "100", env=env)
    assert code == 0, err
    result = json.loads((tmp_path / "report" / "agreement.json").read_text())
    # hand-computed (see test_annotation_agreement): kappa 87/111 over 12 passages, mention F1 2/5, span only 4/5
    assert result["roles"]["coefficient"] == "cohen_kappa"
    assert result["roles"]["value"] == pytest.approx(87 / 111)
    assert result["mentions"]["f1"] == pytest.approx(0.4) and result["mentions"]["span_f1"] == pytest.approx(0.8)
    a, b = sorted(u["email"] for u in annotated["users"])
    assert result["annotators"] == [a, b] and result["tasks_with_prelabel"] == 3
    assert result["prelabel_influence"][a]["roles"]["acceptance"] == 1.0
    assert "Cohen's kappa" in out and "0.784" in out
    assert (tmp_path / "report" / "agreement.html").is_file() and (tmp_path / "report" / "role_agreement.png").is_file()

    corrected = tmp_path / "corrected.jsonl"
    code, out, err = cli("pull", "--project", project, "--out", str(corrected), env=env)
    assert code == 0, err
    assert [d.doc_id for d in read_documents(corrected)] == ["doc-3"], "only the agreed document is written"
    conflicts_path = tmp_path / "corrected.conflicts.jsonl"
    records = [json.loads(line) for line in conflicts_path.read_text().splitlines()]
    planted_conflicts = [
        ("doc-1", "mention", "SANA", {a: ["state_media"], b: ["news_media"]}),
        ("doc-1", "passage", "The offensive will probably stall.", {a: ["analysis"], b: ["claim"]}),
        ("doc-2", "passage", "The Observatory said the raid killed 12.", {a: ["attributed_report"], b: ["claim"]}),
        ("doc-2", "mention", "a witness", {a: [], b: ["local_source"]}),
    ]
    assert [(r["doc_id"], r["kind"], r["text"], {n: [x["label"] for x in v] for n, v in r["labels"].items()})
            for r in records] == planted_conflicts
    assert all(r["project"] == annotated["project"] and r["task"] == annotated["tasks"][r["doc_id"]]["id"]
               for r in records)
    assert "1 agreed (written), 2 held back with 4 conflict(s)" in out

    review = f"{project}-review-{uuid.uuid4().hex[:6]}"
    code, out, err = cli("review", "--project", project, "--conflicts", str(conflicts_path), "--to", review,
                         "--create", env=env)
    assert code == 0, err
    review_id = ls_client.find_project(review)["id"]
    tasks = tasks_of(ls_client, review_id)
    assert sorted(t["data"]["doc_id"] for t in tasks) == ["doc-1", "doc-2"]
    for task in tasks:
        assert sorted(p["model_version"] for p in task["predictions"]) == [f"annotator: {a}", f"annotator: {b}"]
    code, out, err = cli("review", "--project", project, "--conflicts", str(conflicts_path), "--to", review, env=env)
    assert code == 0, err
    assert len(tasks_of(ls_client, review_id)) == 2, "a re-run adds nothing"


def test_bad_input_is_one_line(ls_client: LabelStudioClient, project_name: str, tmp_path: Path) -> None:
    env = cli_env(ls_client.settings)
    stats = push_documents(ls_client, project_name, [read_back(DOC1)], create=True)
    task = tasks_of(ls_client, stats.project_id)[0]
    ls_client.create_annotation(task["id"], document_to_result(DOC1))
    code, out, err = cli("agreement", "--project", str(stats.project_id), env=env)
    assert code == 1 and err.startswith("error: no task has two or more") and err.count("\n") == 1
    code, out, err = cli("agreement", "--project", "987654", env=env)
    assert code == 1 and "no Label Studio project '987654'" in err
    token = ls_client.settings.token.reveal()
    code, out, err = cli("agreement", "--project", project_name, env=cli_env(ls_client.settings,
                                                                            LABEL_STUDIO_API_KEY="e" * 40))
    assert code == 1 and "rejected the API token" in err and "e" * 40 not in err + out
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    code, out, err = cli("agreement", "--project", project_name, env=cli_env(ls_client.settings,
                                                                            LABEL_STUDIO_URL=dead))
    assert code == 1 and err.startswith("error: cannot connect") and err.count("\n") == 1 and token not in err
    code, out, err = cli("push", "x.txt", "--project", project_name, "--overlap", "0", env=env)
    assert code == 1 and "--overlap must be at least 1" in err
    empty = tmp_path / "none.jsonl"
    empty.write_text("")
    code, out, err = cli("review", "--project", project_name, "--conflicts", str(empty), "--to", "x", env=env)
    assert code == 1 and "no conflicts to review" in err
