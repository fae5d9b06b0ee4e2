"""Fixtures for the tests against a real Label Studio server (no tests here).

The server comes from ``scripts/labelstudio.sh start``, which prints
``LABEL_STUDIO_TEST_URL`` and ``LABEL_STUDIO_TEST_TOKEN``. Without them the
tests fail and say so, because a silently skipped integration test hides a
broken loop; ``SOURCEMARK_SKIP_LABELSTUDIO=1`` skips them on purpose.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from sourcemark.annotation.client import ConnectionSettings, LabelStudioClient, Secret
from sourcemark.documents import Document
from sourcemark.jsonl import write_documents

HOW_TO_START = (
    "no Label Studio test server: run `eval \"$(scripts/labelstudio.sh start)\"` (LS_VENV=/path/to/venv to reuse an "
    "install; `scripts/labelstudio.sh install` makes one) so that LABEL_STUDIO_TEST_URL and LABEL_STUDIO_TEST_TOKEN "
    "are set, or set SOURCEMARK_SKIP_LABELSTUDIO=1 to skip these tests"
)


@pytest.fixture(scope="session")
def ls_settings() -> ConnectionSettings:
    """Settings of the running test server; fails (or skips on request) when there is none."""
    url, token = os.environ.get("LABEL_STUDIO_TEST_URL"), os.environ.get("LABEL_STUDIO_TEST_TOKEN")
    if not url or not token:
        if os.environ.get("SOURCEMARK_SKIP_LABELSTUDIO") == "1":
            pytest.skip("SOURCEMARK_SKIP_LABELSTUDIO=1: Label Studio integration tests skipped")
        pytest.fail(HOW_TO_START, pytrace=False)
    settings = ConnectionSettings(url.rstrip("/"), Secret(token), "LABEL_STUDIO_TEST_TOKEN", 30.0)
    try:
        httpx.get(f"{settings.url}/health", timeout=5).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.fail(f"Label Studio test server at {settings.url} does not answer ({type(exc).__name__}); "
                    + HOW_TO_START, pytrace=False)
    return settings


@pytest.fixture
def ls_client(ls_settings: ConnectionSettings) -> Iterator[LabelStudioClient]:
    with LabelStudioClient(ls_settings) as client:
        yield client


@pytest.fixture
def project_name() -> str:
    """A title no other test (or earlier run on the same server) uses."""
    return f"sourcemark-test-{uuid.uuid4().hex[:10]}"


def raw_documents(count: int, seed: int) -> list[Document]:
    """Synthetic articles without passages: what a user pushes."""
    from synthetic import synthetic_documents

    return [Document(d.doc_id, d.text, {"source_file": f"{d.doc_id}.txt"}) for d in synthetic_documents(count, seed)]


def write_corpus(directory: Path) -> tuple[str, str]:
    """Small synthetic train/dev JSONL files for retraining the tiny model."""
    from synthetic import synthetic_documents

    train, dev = directory / "train.jsonl", directory / "dev.jsonl"
    write_documents(train, synthetic_documents(16, seed=11))
    write_documents(dev, synthetic_documents(4, seed=12))
    return str(train), str(dev)


def tasks_of(client: LabelStudioClient, project_id: int, ordering: list[str] | None = None) -> list[dict[str, Any]]:
    """Tasks with predictions and annotations, in Data Manager order."""
    import json

    params: dict[str, Any] = {"project": project_id, "fields": "all", "page_size": 100}
    if ordering:
        params["query"] = json.dumps({"ordering": ordering})
    return client.request("GET", "/api/tasks/", params=params)["tasks"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServedBackend:
    """The FastAPI ML backend in a uvicorn thread on 127.0.0.1 (Label Studio calls it over HTTP)."""

    def __init__(self, backend: Any) -> None:
        import uvicorn

        from sourcemark.annotation.backend import create_app

        self.backend = backend
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(backend), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ServedBackend":
        self.thread.start()
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("ML backend did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
