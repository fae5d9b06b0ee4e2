"""Push, pull and connection errors against a real Label Studio server (scripts/labelstudio.sh start)."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from sourcemark.annotation.cli import ls_app
from sourcemark.annotation.client import (
    AuthError, ConfigMismatch, ConnectionSettings, LabelStudioClient, LabelStudioError, ProjectNotFound,
    RequestTimeout, Secret, ServerUnreachable, connect,
)
from sourcemark.annotation.config import label_config
from sourcemark.annotation.convert import document_to_result
from sourcemark.annotation.pull import pull_corrections
from sourcemark.annotation.push import push_documents
from sourcemark.jsonl import read_documents, write_documents
from sourcemark.model.annotator import Annotator

from test_labelstudio_support import (  # noqa: F401 - fixtures
    ls_client, ls_settings, project_name, raw_documents, tasks_of,
)

pytestmark = pytest.mark.labelstudio


@pytest.fixture(scope="module")
def annotator(trained) -> Annotator:
    return Annotator.load(trained[0])


def scorer(annotator: Annotator):
    return lambda docs: list(annotator.annotate(docs, docs_per_chunk=len(docs)))


def cli(*args: str, env: dict | None = None) -> tuple[int, str, str]:
    app = typer.Typer()
    app.add_typer(ls_app, name="ls")
    result = CliRunner().invoke(app, ["ls", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def cli_env(settings: ConnectionSettings, **extra: str) -> dict:
    return {"LABEL_STUDIO_URL": settings.url, "LABEL_STUDIO_API_KEY": settings.token.reveal(),
            "SOURCEMARK_LS_CONFIG": "/nonexistent/labelstudio.toml", **extra}


def test_config_is_accepted_by_the_server(ls_client: LabelStudioClient, project_name: str) -> None:
    ls_client.validate_config(label_config())
    project = ls_client.create_project(project_name, label_config())
    parsed = project["parsed_label_config"]
    assert set(parsed) == {"role", "source"}
    assert parsed["role"]["to_name"] == ["text"] and len(parsed["source"]["labels"]) == 12


def test_push_creates_tasks_with_scored_predictions_most_uncertain_first(
        ls_client: LabelStudioClient, project_name: str, annotator: Annotator) -> None:
    docs = raw_documents(6, seed=21)
    stats = push_documents(ls_client, project_name, docs, scorer=scorer(annotator),
                           model_version=annotator.model_version, create=True, chunk_size=4)
    assert stats.project_created and stats.tasks_created == 6 and not stats.failed
    project = ls_client.get_project(stats.project_id)
    assert project["model_version"] == annotator.model_version
    assert project["sampling"] == "Uncertainty sampling"

    tasks = tasks_of(ls_client, stats.project_id, ordering=["tasks:predictions_score"])
    assert sorted(t["data"]["doc_id"] for t in tasks) == sorted(d.doc_id for d in docs)
    uncertainties = [t["data"]["uncertainty"] for t in tasks]
    assert uncertainties == sorted(uncertainties, reverse=True), "lowest prediction score = most uncertain first"
    for task in tasks:
        (prediction,) = task["predictions"]
        assert prediction["model_version"] == annotator.model_version
        assert prediction["score"] == pytest.approx(1 - task["data"]["uncertainty"], abs=1e-3)
        regions = prediction["result"]
        assert {r["from_name"] for r in regions} >= {"role"}
        for r in regions:
            value = r["value"]
            assert task["data"]["text"][value["start"]:value["end"]] == value["text"]
            assert 0.0 <= r["score"] <= 1.0
    # Label Studio's own queue (uncertainty sampling) hands out the most uncertain task first
    first = ls_client.request("GET", f"/api/projects/{stats.project_id}/next/")
    assert first["data"]["uncertainty"] == max(uncertainties)


def test_repush_is_idempotent_and_resumes(ls_client: LabelStudioClient, project_name: str,
                                          annotator: Annotator, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("sourcemark.annotation.client.PAGE_SIZE", 2)  # the task index spans several pages
    docs = raw_documents(5, seed=22)
    first = push_documents(ls_client, project_name, docs[:2], scorer=scorer(annotator),
                           model_version=annotator.model_version, create=True)
    assert first.tasks_created == 2  # as if the first run had stopped after one chunk
    calls = []

    def counting(batch):
        calls.append([d.doc_id for d in batch])
        return scorer(annotator)(batch)
    resumed = push_documents(ls_client, project_name, docs, scorer=counting, model_version=annotator.model_version)
    assert (resumed.tasks_created, resumed.skipped) == (3, 2)
    assert sorted(sum(calls, [])) == sorted(d.doc_id for d in docs[2:]), "pushed documents are not re-scored"
    again = push_documents(ls_client, project_name, docs, scorer=counting, model_version=annotator.model_version)
    assert (again.tasks_created, again.predictions_added, again.skipped) == (0, 0, 5)

    # a predictions file of another model version adds predictions, not tasks
    predicted = list(annotator.annotate(docs))
    for doc in predicted:
        doc.model_version = "other-version"
    path = tmp_path / "pred.jsonl"
    write_documents(path, predicted)
    code, out, err = cli("push", "--project", project_name, "--predictions", str(path),
                         env=cli_env(ls_client.settings))
    assert code == 0, err
    assert "0 task(s) created, 5 prediction(s) added" in out
    tasks = tasks_of(ls_client, resumed.project_id)
    assert len(tasks) == 5
    assert all(sorted(p["model_version"] for p in t["predictions"]) == sorted(
        [annotator.model_version, "other-version"]) for t in tasks)
    assert ls_client.get_project(resumed.project_id)["model_version"] == "other-version"


def test_annotations_come_back_through_pull(ls_client: LabelStudioClient, project_name: str,
                                           annotator: Annotator, tmp_path: Path) -> None:
    docs = raw_documents(4, seed=23)
    stats = push_documents(ls_client, project_name, docs, scorer=scorer(annotator),
                           model_version=annotator.model_version, create=True)
    tasks = {t["data"]["doc_id"]: t for t in tasks_of(ls_client, stats.project_id)}
    corrected_id, skipped_id, contested_id = docs[0].doc_id, docs[1].doc_id, docs[2].doc_id

    # an annotator's correction: every passage of the prediction becomes "analysis", and a mention is added
    task = tasks[corrected_id]
    result = [dict(r) for r in task["predictions"][0]["result"] if r["from_name"] == "role"]
    for r in result:
        r["value"] = {**r["value"], "labels": ["analysis"]}
    first = result[0]["value"]
    result.append({"id": "added", "from_name": "source", "to_name": "text", "type": "labels",
                   "value": {"start": first["start"], "end": first["start"] + 5,
                             "text": task["data"]["text"][first["start"]:first["start"] + 5],
                             "labels": ["local_source"]}})
    ls_client.create_annotation(task["id"], result, was_cancelled=False, ground_truth=False)
    ls_client.create_annotation(tasks[skipped_id]["id"], [], was_cancelled=True)
    contested = tasks[contested_id]
    as_claims = [dict(r, value={**r["value"], "labels": ["claim"]}) for r in contested["predictions"][0]["result"]
                 if r["from_name"] == "role"]
    as_other = [dict(r, value={**r["value"], "labels": ["other"]}) for r in as_claims]
    truth = ls_client.create_annotation(contested["id"], as_claims, ground_truth=True)
    ls_client.create_annotation(contested["id"], as_other)  # later, but not ground truth

    out = tmp_path / "corrected.jsonl"
    code, stdout, stderr = cli("pull", "--project", str(stats.project_id), "--out", str(out),
                               env=cli_env(ls_client.settings))
    assert code == 0, stderr
    pulled = {d.doc_id: d for d in read_documents(out)}
    assert set(pulled) == {corrected_id, contested_id}, "unannotated and skipped tasks are not corrections"
    doc = pulled[corrected_id]
    assert {p.label for p in doc.passages} == {"analysis"}
    assert [s.type for p in doc.passages for s in p.sources] == ["local_source"]
    assert doc.meta["labelstudio"]["corrected_model_version"] == annotator.model_version
    assert {p.label for p in pulled[contested_id].passages} == {"claim"}
    assert pulled[contested_id].meta["labelstudio"]["annotation"] == truth["id"]
    assert "1 task(s) had several annotations" in stdout and "ground truth" in stdout
    assert "relabelled" in stdout and "-> analysis" in stdout

    report = pull_corrections(ls_client, str(stats.project_id), tmp_path / "again.jsonl")
    assert report.written == 2 and report.diff.totals()["sources"]["added"] == 1
    exports = ls_client.request("GET", f"/api/projects/{stats.project_id}/exports/")
    assert exports == [], "export snapshots are cleaned up"


def test_personal_access_token_works(ls_client: LabelStudioClient) -> None:
    pat = os.environ.get("LABEL_STUDIO_TEST_PAT")
    if not pat:
        try:
            pat = ls_client.request("POST", "/api/token/")["token"]
        except LabelStudioError as exc:
            if "HTTP 409" not in str(exc):
                raise
            pytest.skip("the test user already has a personal access token; set LABEL_STUDIO_TEST_PAT "
                        "(scripts/labelstudio.sh start exports it)")
    settings = ConnectionSettings(ls_client.url, Secret(pat), "test PAT", 30.0)
    with connect(settings) as client:
        assert client.whoami()["id"] == ls_client.whoami()["id"]
        assert client._kind == "refresh"


def test_refused_personal_access_token(ls_settings: ConnectionSettings) -> None:
    """A well-formed personal access token that this server did not sign: its exchange is refused."""
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    forged = ".".join([part({"alg": "HS256", "typ": "JWT"}),
                       part({"token_type": "refresh", "exp": int(time.time()) + 3600, "jti": "x", "user_id": 1}),
                       "c2lnbmF0dXJl"])
    with pytest.raises(AuthError, match="rejected the personal access token from test PAT") as info:
        connect(ConnectionSettings(ls_settings.url, Secret(forged), "test PAT", 10.0))
    assert forged not in str(info.value) and "\n" not in str(info.value)


def test_connection_errors_are_clear(ls_client: LabelStudioClient, ls_settings: ConnectionSettings,
                                     project_name: str, tmp_path: Path) -> None:
    token = ls_settings.token.reveal()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(ServerUnreachable):
        connect(ConnectionSettings(dead, Secret(token), "t", 5.0))
    code, out, err = cli("pull", "--project", "x", "--out", str(tmp_path / "o.jsonl"),
                         env=cli_env(ls_settings, LABEL_STUDIO_URL=dead))
    assert code == 1 and err.startswith("error: cannot connect to Label Studio at") and err.count("\n") == 1

    with pytest.raises(AuthError):
        connect(ConnectionSettings(ls_settings.url, Secret("0" * 40), "t", 5.0))
    code, out, err = cli("pull", "--project", "x", "--out", str(tmp_path / "o.jsonl"),
                         env=cli_env(ls_settings, LABEL_STUDIO_API_KEY="f" * 40))
    assert code == 1 and "rejected the API token from LABEL_STUDIO_API_KEY" in err and "f" * 40 not in err

    with pytest.raises(ProjectNotFound):
        ls_client.require_project(project_name)
    code, out, err = cli("push", "doc.txt", "--project", project_name, env=cli_env(ls_settings))
    assert code == 1 and "no Label Studio project" in err and "--create" in err
    code, out, err = cli("pull", "--project", "987654", "--out", str(tmp_path / "o.jsonl"), env=cli_env(ls_settings))
    assert code == 1 and "no Label Studio project '987654'" in err
    assert not (tmp_path / "o.jsonl").exists()

    other = ls_client.create_project(project_name, '<View><Text name="t" value="$t"/>'
                                     '<Choices name="c" toName="t"><Choice value="a"/></Choices></View>')
    with pytest.raises(ConfigMismatch):
        ls_client.require_project(str(other["id"]))
    article = tmp_path / "a.txt"
    article.write_text("Troops entered the town.\n")
    code, out, err = cli("push", str(article), "--project", project_name, env=cli_env(ls_settings))
    assert code == 1 and "does not match sourcemark's" in err
    assert tasks_of(ls_client, other["id"]) == [], "nothing imported into a mismatched project"
    for text in (out, err):
        assert token not in text


def test_timeout_is_a_clear_error(tmp_path: Path) -> None:
    """A server that accepts the connection and never answers (no Label Studio needed)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    held = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(RequestTimeout):
            connect(ConnectionSettings(url, Secret("a" * 40), "t", 1.0))
        code, out, err = cli("pull", "--project", "1", "--out", str(tmp_path / "o.jsonl"), "--timeout", "1",
                             env={"LABEL_STUDIO_URL": url, "LABEL_STUDIO_API_KEY": "a" * 40,
                                  "SOURCEMARK_LS_CONFIG": "/nonexistent"})
        assert code == 1 and "did not answer GET /api/current-user/whoami within 1 s" in err
    finally:
        stop.set()
        thread.join()
        listener.close()
        for conn in held:
            conn.close()


def test_offsets_survive_the_server(ls_client: LabelStudioClient, project_name: str,
                                   annotator: Annotator, tmp_path: Path) -> None:
    """Offsets past an emoji stay right through the server (UTF-16 on its side, code points on ours)."""
    from sourcemark.documents import Document

    doc = Document("emoji-1", "\U0001F4A5 SOHR said 4 died in Homs.\nTags: war\n")
    stats = push_documents(ls_client, project_name, [doc], scorer=scorer(annotator),
                           model_version=annotator.model_version, create=True)
    (task,) = tasks_of(ls_client, stats.project_id)
    result = task["predictions"][0]["result"]
    predicted = next(iter(annotator.annotate([doc])))
    roles = [r for r in result if r["from_name"] == "role"]
    assert [r["value"]["start"] for r in roles] == [p.start + (p.start > 0) for p in predicted.passages], \
        "after the emoji (two UTF-16 units) Label Studio offsets are one more than Python's"
    ls_client.create_annotation(task["id"], result)
    pulled = pull_corrections(ls_client, str(stats.project_id), tmp_path / "emoji.jsonl")
    assert pulled.written == 1 and not pulled.rejected
    assert [r["value"] for r in document_to_result(predicted)] == [r["value"] for r in result]
    (back,) = read_documents(tmp_path / "emoji.jsonl")
    assert [(p.start, p.end, p.label) for p in back.passages] == [(p.start, p.end, p.label) for p in predicted.passages]
