"""The ML backend under concurrent requests: answers equal to the sequential ones, the queue bounded."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from sourcemark.annotation import backend as backend_module
from sourcemark.annotation.backend import Backend, BackendConfig, create_app
from sourcemark.segmentation import segment_text

SAMPLES = Path(__file__).resolve().parents[1] / "training" / "data" / "samples"
PARALLEL = 20


def distinct_texts(count: int) -> list[str]:
    """``count`` different articles of a dozen real lines each, long enough for pysbd to take a while."""
    lines = [line for path in sorted(SAMPLES.glob("*.txt"))
             for line in path.read_text(encoding="utf-8").splitlines() if len(line) > 40]
    texts = ["\n".join(lines[i::7][:12]) for i in range(count)]
    assert len(set(texts)) == count
    return texts


def test_segment_text_is_safe_to_share_across_threads() -> None:
    texts = distinct_texts(PARALLEL)
    expected = [[(p.start, p.end, p.section) for p in segment_text(t)] for t in texts]
    got: list[list | None] = [None] * PARALLEL
    start = threading.Barrier(PARALLEL)

    def work(i: int) -> None:
        start.wait()
        got[i] = [(p.start, p.end, p.section) for p in segment_text(texts[i])]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    same = sum(g == e for g, e in zip(got, expected))
    assert same == PARALLEL, f"only {same}/{PARALLEL} segmentations equal the sequential ones"


@pytest.fixture
def server_url(trained, tmp_path: Path):
    """The backend served by uvicorn on 127.0.0.1 in a thread: the real thread pool, the real HTTP."""
    backend = Backend(BackendConfig(model_dir=trained[0], work_dir=tmp_path / "work"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(backend), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            thread.join(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def test_parallel_predictions_equal_the_sequential_ones(server_url: str) -> None:
    bodies = [{"tasks": [{"id": i, "data": {"text": text}}]} for i, text in enumerate(distinct_texts(PARALLEL))]
    with httpx.Client(base_url=server_url, timeout=120) as client:
        sequential = []
        for body in bodies:
            answer = client.post("/predict", json=body)
            assert answer.status_code == 200, answer.text
            sequential.append(answer.json())
    assert all(s["results"][0]["result"] for s in sequential)

    start = threading.Barrier(PARALLEL)

    def send(body: dict) -> tuple[int, dict]:
        with httpx.Client(base_url=server_url, timeout=120) as client:  # one connection per request
            start.wait()
            answer = client.post("/predict", json=body)
            return answer.status_code, answer.json()

    with ThreadPoolExecutor(PARALLEL) as pool:
        parallel = list(pool.map(send, bodies))
    assert [status for status, _ in parallel] == [200] * PARALLEL
    same = sum(answer == expected for (_, answer), expected in zip(parallel, sequential))
    assert same == PARALLEL, f"only {same}/{PARALLEL} parallel answers equal the sequential ones"


def test_requests_beyond_the_queue_are_turned_away_and_health_still_answers(trained, tmp_path: Path,
                                                                             monkeypatch) -> None:
    monkeypatch.setattr(backend_module, "MAX_PENDING_PREDICTIONS", 1)
    backend = Backend(BackendConfig(model_dir=trained[0], work_dir=tmp_path / "work"))
    entered, release = threading.Event(), threading.Event()
    annotate = backend.annotator.annotate

    def slow_annotate(docs, *args, **kwargs):
        entered.set()
        release.wait(30)
        return annotate(docs, *args, **kwargs)
    monkeypatch.setattr(backend.annotator, "annotate", slow_annotate)
    client = TestClient(create_app(backend))
    task = {"id": 1, "data": {"text": distinct_texts(1)[0]}}
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.post, "/predict", json={"tasks": [task]})
        try:
            assert entered.wait(30)
            busy = client.post("/predict", json={"tasks": [task]})
            assert busy.status_code == 503
            assert busy.json() == {"error": "the backend is busy with 1 prediction request(s): retry later"}
            assert busy.headers["retry-after"]
            assert client.get("/health").json()["status"] == "UP"
        finally:
            release.set()
        assert first.result(60).status_code == 200
    assert client.post("/predict", json={"tasks": [task]}).status_code == 200, "the slot is given back"


def test_the_model_runs_one_request_at_a_time(trained, tmp_path: Path, monkeypatch) -> None:
    backend = Backend(BackendConfig(model_dir=trained[0], work_dir=tmp_path / "work"))
    annotate, guard = backend.annotator.annotate, threading.Lock()
    running, most = 0, 0

    def counted_annotate(docs, *args, **kwargs):
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        try:
            threading.Event().wait(0.05)  # long enough for the other requests to arrive meanwhile
            return list(annotate(docs, *args, **kwargs))
        finally:
            with guard:
                running -= 1
    monkeypatch.setattr(backend.annotator, "annotate", counted_annotate)
    client = TestClient(create_app(backend))
    bodies = [{"tasks": [{"id": i, "data": {"text": text}}]} for i, text in enumerate(distinct_texts(8))]
    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(lambda body: client.post("/predict", json=body), bodies))
    assert [a.status_code for a in answers] == [200] * len(bodies)
    assert most == 1
