"""Talking to a Label Studio server: connection settings, authentication, one-line errors.

Settings come from, in order: command-line flags, the environment
(``LABEL_STUDIO_URL``, ``LABEL_STUDIO_API_KEY``, ``LABEL_STUDIO_TIMEOUT``), a
TOML file (``--config PATH``, else ``$SOURCEMARK_LS_CONFIG``, else
``~/.config/sourcemark/labelstudio.toml``) with ``url``, ``api_key`` and
``timeout`` keys.

Both kinds of Label Studio token work. A *legacy token* (40 hex characters)
is sent as ``Authorization: Token ...``. A *personal access token* is a JWT
refresh token: it is exchanged at ``/api/token/refresh/`` for a short-lived
access token sent as ``Authorization: Bearer ...``, renewed when it expires.

Tokens never leave this module in readable form: they are held in a Secret
whose ``str``/``repr`` is masked, and every error message is scrubbed of them.
Errors are LabelStudioError subclasses with a one-line message that names the
server, the cause and what to do; the CLI prints it and exits 1.

This is a small httpx client rather than label-studio-sdk because the loop
needs a dozen endpoints with precise error handling and no hidden retries; the
SDK stays usable alongside it (the tests use it to register the ML backend).
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import httpx

from sourcemark.annotation.config import config_problems

DEFAULT_TIMEOUT = 30.0
CONFIG_ENV = "SOURCEMARK_LS_CONFIG"
PAGE_SIZE = 500


# ----------------------------------------------------------------------------- errors


class LabelStudioError(RuntimeError):
    """Any failure talking to Label Studio; the message is one line, token-free."""


class ServerUnreachable(LabelStudioError):
    """Nothing answers at the URL (server down, wrong host or port)."""


class AuthError(LabelStudioError):
    """The server rejected the token."""


class RequestTimeout(LabelStudioError):
    """The server did not answer in time."""


class ProjectNotFound(LabelStudioError):
    """No project with that id or title."""


class ConfigMismatch(LabelStudioError):
    """The project's labelling config cannot hold sourcemark annotations."""


class SettingsError(LabelStudioError):
    """URL or token missing or malformed."""


# ----------------------------------------------------------------------------- settings


class Secret:
    """A token that prints as ``***``; ``reveal()`` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class ConnectionSettings:
    """Where the server is, the token, and where each came from (for error messages)."""

    url: str
    token: Secret
    token_source: str
    timeout: float = DEFAULT_TIMEOUT


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sourcemark" / "labelstudio.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        tomllib = None  # type: ignore[assignment]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"cannot read Label Studio config file {path}: {exc.strerror or exc}") from None
    try:
        if tomllib is not None:
            return tomllib.loads(raw.decode("utf-8"))
        out: dict[str, Any] = {}  # flat `key = value` subset, enough for this file
        for line in raw.decode("utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line and "=" in line and not line.startswith("["):
                key, value = (x.strip() for x in line.split("=", 1))
                out[key] = value.strip("\"'") if value[:1] in "\"'" else float(value)
        return out
    except (ValueError, UnicodeDecodeError) as exc:
        # the parser's message may quote the line, and the line may hold the token
        raise SettingsError(f"Label Studio config file {path} is not valid TOML "
                            f"({type(exc).__name__})") from None


def resolve_settings(url: str | None = None, api_key: str | None = None, config: Path | None = None,
                     timeout: float | None = None) -> ConnectionSettings:
    """Settings from flags, then environment, then the config file."""
    path = config or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else default_config_path())
    file_values: dict[str, Any] = {}
    if config is not None or path.is_file():
        file_values = _read_toml(path)
    chosen_url = url or os.environ.get("LABEL_STUDIO_URL") or file_values.get("url")
    if api_key:
        token, source = api_key, "--api-key"
    elif os.environ.get("LABEL_STUDIO_API_KEY"):
        token, source = os.environ["LABEL_STUDIO_API_KEY"], "LABEL_STUDIO_API_KEY"
    elif file_values.get("api_key"):
        token, source = str(file_values["api_key"]), f"api_key in {path}"
    else:
        token, source = "", ""
    if not chosen_url:
        raise SettingsError("no Label Studio URL: pass --url, set LABEL_STUDIO_URL or put url = \"...\" "
                            f"in {path}")
    chosen_url = str(chosen_url).strip().rstrip("/")
    if not chosen_url.startswith(("http://", "https://")):
        raise SettingsError(f"Label Studio URL {chosen_url!r} must start with http:// or https://")
    if not token.strip():
        raise SettingsError("no Label Studio API token: set LABEL_STUDIO_API_KEY (Account & Settings > "
                            f"Personal Access Token or legacy token) or put api_key = \"...\" in {path}")
    env_timeout = os.environ.get("LABEL_STUDIO_TIMEOUT")
    try:
        chosen_timeout = float(timeout or env_timeout or file_values.get("timeout") or DEFAULT_TIMEOUT)
    except ValueError:
        raise SettingsError(f"timeout must be a number of seconds, got {env_timeout!r}") from None
    return ConnectionSettings(chosen_url, Secret(token.strip()), source, chosen_timeout)


def _jwt_claims(token: str) -> dict[str, Any] | None:
    """The (unverified) claims of a JWT, or None if ``token`` is not one (a legacy token)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, json.JSONDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


# ----------------------------------------------------------------------------- the client


class LabelStudioClient:
    """The endpoints the annotation loop uses, with errors turned into LabelStudioError."""

    def __init__(self, settings: ConnectionSettings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.url = settings.url
        self._http = httpx.Client(base_url=settings.url, timeout=settings.timeout, transport=transport,
                                  follow_redirects=False)
        claims = _jwt_claims(settings.token.reveal())
        self._kind = "legacy" if claims is None else str(claims.get("token_type") or "access")
        self._access: Secret | None = None
        self._access_expiry = 0.0

    def __repr__(self) -> str:
        return f"LabelStudioClient(url={self.url!r}, token=***, token_source={self.settings.token_source!r})"

    def __enter__(self) -> "LabelStudioClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ plumbing

    def _scrub(self, text: str) -> str:
        for secret in (self.settings.token, self._access):
            if secret is not None and secret.reveal():
                text = text.replace(secret.reveal(), "***")
        return text

    def _auth_header(self) -> dict[str, str]:
        if self._kind == "legacy":
            return {"Authorization": f"Token {self.settings.token.reveal()}"}
        if self._kind != "refresh":
            return {"Authorization": f"Bearer {self.settings.token.reveal()}"}
        if self._access is None or time.time() > self._access_expiry - 30:
            self._refresh()
        assert self._access is not None
        return {"Authorization": f"Bearer {self._access.reveal()}"}

    def _refresh(self) -> None:
        """Exchange the personal access token (a JWT refresh token) for an access token."""
        response = self._send("POST", "/api/token/refresh/", json={"refresh": self.settings.token.reveal()},
                              auth=False)
        if response.status_code in (400, 401, 403):
            raise AuthError(
                f"Label Studio at {self.url} rejected the personal access token from "
                f"{self.settings.token_source} ({self._detail(response)}): create a new one under "
                "Account & Settings > Personal Access Token"
            )
        self._check(response, "POST", "/api/token/refresh/")
        access = str(response.json().get("access", ""))
        claims = _jwt_claims(access) or {}
        self._access = Secret(access)
        self._access_expiry = float(claims.get("exp") or time.time() + 60)

    def _send(self, method: str, path: str, auth: bool = True, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if auth:
            headers.update(self._auth_header())
        try:
            return self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException:
            raise RequestTimeout(
                f"Label Studio at {self.url} did not answer {method} {path} within {self.settings.timeout:g} s: "
                "the server is overloaded or stuck; retry, or raise --timeout"
            ) from None
        except httpx.ConnectError as exc:
            reason = self._scrub(str(exc)) or type(exc).__name__
            raise ServerUnreachable(
                f"cannot connect to Label Studio at {self.url} ({reason}): is the server running and the URL "
                "right? (a local test server: scripts/labelstudio.sh start)"
            ) from None
        except httpx.HTTPError as exc:
            raise LabelStudioError(
                f"talking to Label Studio at {self.url} failed: {type(exc).__name__}: {self._scrub(str(exc))}"
            ) from None

    def _detail(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return f"HTTP {response.status_code}"
        if isinstance(body, Mapping):
            detail = body.get("detail") or body.get("validation_errors") or body
        else:
            detail = body
        text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
        return self._scrub(" ".join(text.split()))[:300]

    def _check(self, response: httpx.Response, method: str, path: str) -> None:
        if response.status_code < 400:
            return
        if response.status_code == 401:
            raise AuthError(
                f"Label Studio at {self.url} rejected the API token from {self.settings.token_source} "
                f"({self._detail(response)}): use a valid personal access token or legacy token of this server"
            )
        if response.status_code == 403:
            raise AuthError(
                f"Label Studio at {self.url} refused {method} {path} for this token's user "
                f"({self._detail(response)})"
            )
        raise LabelStudioError(
            f"Label Studio at {self.url}: {method} {path} failed with HTTP {response.status_code}: "
            f"{self._detail(response)}"
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send an authenticated request; return the decoded JSON body (None when empty)."""
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 and self._kind == "refresh":
            self._access = None  # the access token may have just expired: renew once
            response = self._send(method, path, **kwargs)
        self._check(response, method, path)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise LabelStudioError(
                f"{self.url} answered {method} {path} with something that is not JSON: "
                "is this really a Label Studio server?"
            ) from None

    # ------------------------------------------------------------------ users

    def whoami(self) -> dict[str, Any]:
        """The token's user; the cheapest call that proves URL and token are right."""
        user = self.request("GET", "/api/current-user/whoami")
        if not isinstance(user, Mapping) or "id" not in user:
            raise LabelStudioError(f"{self.url} does not answer like Label Studio (no user from whoami)")
        return dict(user)

    # ------------------------------------------------------------------ projects

    def list_projects(self) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            body = self.request("GET", "/api/projects/", params={"page": page, "page_size": 100})
            items = body.get("results", []) if isinstance(body, Mapping) else body
            yield from items
            if not isinstance(body, Mapping) or not body.get("next"):
                return
            page += 1

    def get_project(self, project_id: int) -> dict[str, Any]:
        response = self._send("GET", f"/api/projects/{project_id}/")
        if response.status_code == 404:
            raise ProjectNotFound(f"no project with id {project_id} on Label Studio at {self.url}")
        self._check(response, "GET", f"/api/projects/{project_id}/")
        return response.json()

    def find_project(self, ref: str | int) -> dict[str, Any] | None:
        """A project by id (digits) or exact title; None if there is none. Ambiguous titles are an error."""
        text = str(ref).strip()
        if text.isdigit():
            try:
                return self.get_project(int(text))
            except ProjectNotFound:
                return None
        matches = [p for p in self.list_projects() if p.get("title") == text]
        if len(matches) > 1:
            ids = ", ".join(str(p["id"]) for p in matches)
            raise LabelStudioError(f"{len(matches)} projects are titled {text!r} on {self.url} (ids {ids}): "
                                   "pass --project with the id")
        return self.get_project(matches[0]["id"]) if matches else None

    def require_project(self, ref: str | int) -> dict[str, Any]:
        """A project that exists and whose config holds sourcemark annotations, or a clear error."""
        project = self.find_project(ref)
        if project is None:
            raise ProjectNotFound(f"no Label Studio project {ref!r} at {self.url} "
                                  "(give its id or exact title; `ls push --create` creates it)")
        check_project_config(project)
        return project

    def create_project(self, title: str, label_config: str, **fields: Any) -> dict[str, Any]:
        return self.request("POST", "/api/projects/", json={"title": title, "label_config": label_config, **fields})

    def update_project(self, project_id: int, **fields: Any) -> dict[str, Any]:
        return self.request("PATCH", f"/api/projects/{project_id}/", json=fields)

    def validate_config(self, label_config: str) -> None:
        """Raise LabelStudioError with the server's reason if it rejects the config."""
        response = self._send("POST", "/api/projects/validate/", json={"label_config": label_config})
        if response.status_code == 400:
            raise LabelStudioError(f"Label Studio at {self.url} rejects the labelling config: "
                                   f"{self._detail(response)}")
        self._check(response, "POST", "/api/projects/validate/")

    # ------------------------------------------------------------------ tasks and predictions

    def iter_tasks(self, project_id: int) -> Iterator[dict[str, Any]]:
        """Every task of a project (data and meta, no annotations), page by page."""
        page = 1
        while True:
            response = self._send("GET", "/api/tasks/", params={"project": project_id, "page": page,
                                                                "page_size": PAGE_SIZE, "fields": "task_only"})
            if response.status_code == 404 and page > 1:
                return  # past the last page
            self._check(response, "GET", "/api/tasks/")
            body = response.json()
            tasks = body.get("tasks", []) if isinstance(body, Mapping) else body
            yield from tasks
            total = body.get("total", 0) if isinstance(body, Mapping) else 0
            if not tasks or page * PAGE_SIZE >= total:
                return
            page += 1

    def list_predictions(self, project_id: int) -> list[dict[str, Any]]:
        body = self.request("GET", "/api/predictions/", params={"project": project_id})
        return list(body.get("results", []) if isinstance(body, Mapping) else body or [])

    def import_tasks(self, project_id: int, tasks: list[dict[str, Any]]) -> list[int]:
        """Create tasks (with their predictions) in one request; return the new task ids in order."""
        body = self.request("POST", f"/api/projects/{project_id}/import", params={"return_task_ids": "true"},
                            json=tasks)
        if isinstance(body, Mapping) and "task_ids" in body:
            return [int(t) for t in body["task_ids"]]
        if isinstance(body, Mapping) and "import" in body:  # asynchronous import (non-community editions)
            return self._wait_import(project_id, int(body["import"]))
        raise LabelStudioError(f"Label Studio at {self.url} did not return the ids of imported tasks")

    def _wait_import(self, project_id: int, import_id: int, limit: float = 600.0) -> list[int]:
        started = time.time()
        while time.time() - started < limit:
            body = self.request("GET", f"/api/projects/{project_id}/imports/{import_id}/")
            status = body.get("status")
            if status == "completed":
                return [int(t) for t in body.get("task_ids") or []]
            if status == "failed":
                raise LabelStudioError(f"Label Studio import {import_id} failed: {body.get('error')}")
            time.sleep(1.0)
        raise RequestTimeout(f"Label Studio import {import_id} did not finish within {limit:g} s")

    def import_predictions(self, project_id: int, predictions: list[dict[str, Any]]) -> int:
        """Add predictions (each with its ``task`` id) to existing tasks; return how many were created."""
        body = self.request("POST", f"/api/projects/{project_id}/import/predictions", json=predictions)
        return int(body.get("created", len(predictions))) if isinstance(body, Mapping) else len(predictions)

    def create_annotation(self, task_id: int, result: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
        return self.request("POST", f"/api/tasks/{task_id}/annotations/", json={"result": result, **fields})

    # ------------------------------------------------------------------ export snapshots

    def export_snapshot(self, project_id: int, limit: float = 600.0) -> list[dict[str, Any]]:
        """Annotated tasks with full annotations and predictions, through an export snapshot.

        A snapshot (not ``/export``) because only snapshots take serialization
        options: predictions in full (the plain JSON export gives their ids
        only) and regions with their ids (``JSON_MIN`` flattens them). The
        snapshot is deleted afterwards so repeated pulls leave nothing behind.
        """
        options = {
            "title": "sourcemark pull",
            "task_filter_options": {"annotated": "only"},
            "annotation_filter_options": {"usual": True, "ground_truth": True, "skipped": False},
            "serialization_options": {"predictions": {"only_id": False},
                                      "annotations__completed_by": {"only_id": False}},
        }
        created = self.request("POST", f"/api/projects/{project_id}/exports/", json=options)
        export_id = int(created["id"])
        try:
            started, status = time.time(), created.get("status")
            while status not in ("completed", "failed"):
                if time.time() - started > limit:
                    raise RequestTimeout(f"Label Studio export snapshot {export_id} did not finish "
                                         f"within {limit:g} s")
                time.sleep(0.5)
                status = self.request("GET", f"/api/projects/{project_id}/exports/{export_id}").get("status")
            if status == "failed":
                raise LabelStudioError(f"Label Studio export snapshot {export_id} of project {project_id} failed")
            body = self.request("GET", f"/api/projects/{project_id}/exports/{export_id}/download",
                                params={"exportType": "JSON"})
        finally:
            try:
                self._send("DELETE", f"/api/projects/{project_id}/exports/{export_id}")
            except LabelStudioError:
                pass
        if not isinstance(body, list):
            raise LabelStudioError(f"Label Studio export snapshot {export_id} is not a JSON list of tasks")
        return body


def check_project_config(project: Mapping[str, Any]) -> None:
    """Raise ConfigMismatch if the project's labelling config cannot hold sourcemark annotations."""
    problems = config_problems(str(project.get("label_config") or ""))
    if problems:
        raise ConfigMismatch(
            f"project {project.get('id')} ({project.get('title')!r}) has a labelling config that does not match "
            f"sourcemark's: {'; '.join(problems)}. Use another project, or replace its config with "
            "`sourcemark.annotation.config.label_config()`"
        )


def connect(settings: ConnectionSettings) -> LabelStudioClient:
    """A client whose URL and token have been checked (one request)."""
    client = LabelStudioClient(settings)
    try:
        client.whoami()
    except BaseException:
        client.close()
        raise
    return client
