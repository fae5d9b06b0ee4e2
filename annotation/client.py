"""Talking to a Label Studio server through label-studio-sdk: settings, authentication, one-line errors.

Settings come from, in order: command-line flags, the environment
(``LABEL_STUDIO_URL``, ``LABEL_STUDIO_API_KEY``, ``LABEL_STUDIO_TIMEOUT``), a
TOML file (``--config PATH``, else ``$SOURCEMARK_LS_CONFIG``, else
``~/.config/sourcemark/labelstudio.toml``) with ``url``, ``api_key`` and
``timeout`` keys.

The requests go through ``label_studio_sdk.LabelStudio``, which takes both
kinds of Label Studio token: a *legacy token* (40 hex characters) is sent as
``Authorization: Token ...``; a *personal access token* is a JWT refresh
token, which the SDK exchanges at ``/api/token/refresh/`` for a short-lived
access token sent as ``Authorization: Bearer ...``, and exchanges again when
that one expires. On top of the SDK this module keeps the annotation loop's
rules:

* No hidden retries. By default the SDK retries refused connections, 5xx,
  408, 409 and 429 answers with back-off; here it is built with
  ``max_retries=0``, so a failure is reported at once and the user decides
  (push resumes where it stopped, pull only reads). The one exception is an
  access token the server refuses: it is exchanged again once, because it can
  expire between the SDK's expiry check and the server's, or the two clocks
  can disagree.
* One-line errors. The SDK's ApiError (status code and body) and the httpx
  errors under it become LabelStudioError subclasses whose message names the
  server, the request, the cause and what to do; the CLI prints it and exits 1.
* Tokens never leave this module in readable form: they are held in a Secret
  whose ``str``/``repr`` is masked, and every error message is scrubbed of them.
  A user name and password in the URL (``http://user:secret@host``) are shown
  as ``***`` wherever a message or repr shows the URL.
* A malformed URL (``http://[::1``, a port out of range, no host) is a
  SettingsError naming the problem, raised before any request is made; so is a
  URL with a user name or password, which would be sent as basic
  authentication in place of the API key and refused by the server.
* Plain data. Methods return the server's JSON as dicts and lists, not SDK
  models: callers index them, whatever shape the SDK's model classes take.

The ML backend (backend.py) is a separate, hand-written server; it does not use
this client.
"""

from __future__ import annotations

import base64
import inspect
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, TypeVar
from urllib.parse import unquote, urlsplit

import httpx
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.core.parse_error import ParsingError

from sourcemark.annotation.config import config_problems

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

DEFAULT_TIMEOUT = 30.0
CONFIG_ENV = "SOURCEMARK_LS_CONFIG"
PAGE_SIZE = 500
PROJECT_PAGE_SIZE = 100
REFRESH_PATH = "/api/token/refresh/"
PAT_HINT = "create a new one under Account & Settings > Personal Access Token"
_JWT = re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]*")  # any JWT: its header, base64url of '{"...', starts "eyJ"

T = TypeVar("T")


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

    def __repr__(self) -> str:
        # the dataclass repr would show a password given in the URL
        return (f"ConnectionSettings(url={mask_url(self.url)!r}, token={self.token!r}, "
                f"token_source={self.token_source!r}, timeout={self.timeout!r})")


def mask_url(url: str) -> str:
    """``url`` with the user name and password before its host shown as ``***``; also for a malformed URL."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority = rest.split("/", 1)[0]  # not cut at "?" or "#": an unencoded password may hold them
    at = authority.rfind("@")
    return url if at < 0 else f"{scheme}{sep}***{rest[at:]}"


def _url_secrets(url: str) -> list[str]:
    """The user info and password given in ``url``, as written and decoded: what error messages must not show."""
    scheme, sep, rest = url.partition("://")
    authority = (rest if sep else url).split("/", 1)[0]
    userinfo = authority[:authority.rfind("@")] if "@" in authority else ""
    password = userinfo.partition(":")[2]
    found = {userinfo, unquote(userinfo), password, unquote(password)} - {""}
    return sorted(found, key=len, reverse=True)  # the longest first, so a part never leaves the rest readable


CREDENTIALS_IN_URL = "has a user name or password in it"


def check_url(url: str) -> None:
    """Raise SettingsError, one line with the password masked, unless ``url`` is a usable http(s) URL."""
    shown = mask_url(url)
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"Label Studio URL {shown!r} must start with http:// or https://")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        problem = "it contains a space or a control character"
    else:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - parsing the port is what raises for one out of range or not a number
            httpx.URL(url)  # what the requests will be built from: it rejects a few more
            problem = ""
            if not parts.hostname:
                problem = "it has no host name"
            elif parts.username is not None or parts.password is not None:
                # sent as basic authentication, it would replace the API key's header and the server would
                # refuse every request: better said here than as a puzzling 401 later
                problem = CREDENTIALS_IN_URL
            elif parts.query or parts.fragment or url.endswith(("?", "#")):
                problem = "it has a query or fragment (? or #); give the server's address only"
        except (ValueError, httpx.InvalidURL) as exc:
            problem = str(exc) or type(exc).__name__
            for secret in _url_secrets(url):
                problem = problem.replace(secret, "***")
    if problem == CREDENTIALS_IN_URL:
        raise SettingsError(f"Label Studio URL {shown!r} {CREDENTIALS_IN_URL}: sourcemark logs in with the API key "
                            "(LABEL_STUDIO_API_KEY, --api-key or the config file), never with credentials in the "
                            "URL; remove them from the URL")
    if problem:
        raise SettingsError(f"Label Studio URL {shown!r} is malformed: {' '.join(problem.split())} "
                            "(expected http://HOST:PORT or https://HOST/PATH)")


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
    check_url(chosen_url)
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


def _plain(model: Any) -> dict[str, Any]:
    """An SDK model as the JSON the server sent (the SDK's ``json()`` keeps the fields it was given)."""
    return json.loads(model.json())


def _keywords(method: Callable[..., Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for an SDK method: the fields it names, and the others as extra body fields.

    The SDK's methods list the fields of the API version they were generated
    from; a field they do not know still reaches the server as it is given.
    """
    known = inspect.signature(method).parameters
    kwargs = {k: v for k, v in fields.items() if k in known}
    extra = {k: v for k, v in fields.items() if k not in known}
    if extra:
        kwargs["request_options"] = {"additional_body_parameters": extra}
    return kwargs


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


# ----------------------------------------------------------------------------- the client


class LabelStudioClient:
    """The calls the annotation loop makes, through the SDK, with errors turned into LabelStudioError.

    ``transport`` (an httpx transport) replaces the network, for a proxy set-up or a test.
    """

    def __init__(self, settings: ConnectionSettings, transport: httpx.BaseTransport | None = None) -> None:
        check_url(settings.url)  # settings need not come from resolve_settings
        self.settings = settings
        self.url = settings.url
        self.shown_url = mask_url(settings.url)  # the URL in messages: never a password given in it
        self._url_secrets = _url_secrets(settings.url)
        claims = _jwt_claims(settings.token.reveal())
        self._kind = "legacy" if claims is None else str(claims.get("token_type") or "access")
        self._last = ("", "")  # method and path of the last request sent: errors name it
        # The SDK sends everything through this client, the token exchange included, so the
        # timeout and the request log cover every request. A redirect is reported, not followed:
        # it means the URL is not Label Studio's API (http for https, a proxy's login page).
        self._http = httpx.Client(timeout=settings.timeout, transport=transport, follow_redirects=False,
                                  event_hooks={"request": [self._note]})
        try:
            self._sdk = self._new_sdk()
        except BaseException:
            self._http.close()
            raise

    def __repr__(self) -> str:
        return f"LabelStudioClient(url={self.shown_url!r}, token=***, token_source={self.settings.token_source!r})"

    def __enter__(self) -> "LabelStudioClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ plumbing

    def _new_sdk(self) -> "LabelStudio":
        """A fresh SDK client: it holds no access token yet, so a personal access token is exchanged anew."""
        # imported here: the SDK pulls in pandas and its label-config parser, which the CLI's
        # settings errors and --help should not wait for
        from label_studio_sdk import LabelStudio

        try:
            # the trailing "/" keeps a sub-path (https://host/labelstudio/) in the token-refresh URL,
            # which the SDK builds with urljoin
            return LabelStudio(base_url=f"{self.url}/", api_key=self.settings.token.reveal(),
                               httpx_client=self._http, timeout=self.settings.timeout, max_retries=0)
        except ApiError as exc:  # the SDK refuses an expired personal access token before sending it
            raise AuthError(f"the personal access token from {self.settings.token_source} cannot be used with "
                            f"Label Studio at {self.shown_url} ({self._detail(exc.body, exc.status_code)}): "
                            f"{PAT_HINT}") from None

    def _note(self, request: httpx.Request) -> None:
        self._last = (request.method, request.url.path)

    def _scrub(self, text: str) -> str:
        token = self.settings.token.reveal()
        if token:
            text = text.replace(token, "***")
        for secret in self._url_secrets:  # httpx's messages may quote the URL as given
            text = text.replace(secret, "***")
        return _JWT.sub("***", text)  # the access tokens the SDK got in exchange for a personal access token

    def _detail(self, body: Any, status: int | None) -> str:
        if isinstance(body, Mapping):
            detail = body.get("detail") or body.get("validation_errors") or body
        elif isinstance(body, str) and (not body.strip() or body.lstrip().startswith("<")):
            return f"HTTP {status}"  # an HTML error page (the SDK passes on the text of a body that is not JSON)
        else:
            detail = body
        text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False, default=str)
        return self._scrub(" ".join(text.split()))[:300]

    def _api_error(self, exc: ApiError) -> LabelStudioError:
        """The one-line error for an answer the SDK did not accept."""
        method, path = self._last
        status = exc.status_code or 0
        if 300 <= status < 400:
            target = (exc.headers or {}).get("location", "elsewhere")
            return LabelStudioError(f"{self.shown_url} answered {method} {path} with a redirect (HTTP {status}) to "
                                    f"{self._scrub(target)}: give the URL of Label Studio itself (http or https?)")
        if status < 300:  # the SDK could not decode a successful answer
            return LabelStudioError(f"{self.shown_url} answered {method} {path} with something that is not JSON: "
                                    "is this really a Label Studio server?")
        detail = self._detail(exc.body, status)
        if self._kind == "refresh" and (status == 401 or path == REFRESH_PATH):
            return AuthError(f"Label Studio at {self.shown_url} rejected the personal access token from "
                             f"{self.settings.token_source} ({detail}): {PAT_HINT}")
        if status == 401:
            return AuthError(f"Label Studio at {self.shown_url} rejected the API token from "
                             f"{self.settings.token_source} ({detail}): use a valid personal access token or "
                             "legacy token of this server")
        if status == 403:
            return AuthError(f"Label Studio at {self.shown_url} refused {method} {path} for this token's user "
                             f"({detail})")
        return LabelStudioError(f"Label Studio at {self.shown_url}: {method} {path} failed with HTTP {status}: "
                                f"{detail}")

    def _call(self, fn: Callable[["LabelStudio"], T],
              special: Mapping[int, Callable[[str], LabelStudioError]] | None = None) -> T:
        """``fn(sdk)`` with every failure turned into a LabelStudioError; ``special`` maps a status to its own error."""
        try:
            try:
                return fn(self._sdk)
            except ApiError as exc:
                if not (exc.status_code == 401 and self._kind == "refresh" and self._last[1] != REFRESH_PATH):
                    raise
            # the server refused the access token: exchange the personal access token once more
            self._sdk = self._new_sdk()
            return fn(self._sdk)
        except ApiError as exc:
            if special and exc.status_code in special:
                raise special[exc.status_code](self._detail(exc.body, exc.status_code)) from None
            raise self._api_error(exc) from None
        except (ParsingError, ValueError) as exc:  # an answer of the wrong shape, or a token exchange's not JSON
            method, path = self._last
            raise LabelStudioError(f"{self.shown_url} answered {method} {path} with something Label Studio does not "
                                   f"send ({type(exc).__name__}): is this really a Label Studio server?") from None
        except httpx.TimeoutException:
            method, path = self._last
            raise RequestTimeout(
                f"Label Studio at {self.shown_url} did not answer {method} {path} within {self.settings.timeout:g} s: "
                "the server is overloaded or stuck; retry, or raise --timeout"
            ) from None
        except httpx.ConnectError as exc:
            reason = self._scrub(str(exc)) or type(exc).__name__
            raise ServerUnreachable(
                f"cannot connect to Label Studio at {self.shown_url} ({reason}): is the server running and the URL "
                "right? (a local test server: scripts/labelstudio.sh start)"
            ) from None
        except httpx.HTTPError as exc:
            raise LabelStudioError(
                f"talking to Label Studio at {self.shown_url} failed: {type(exc).__name__}: {self._scrub(str(exc))}"
            ) from None

    def _json(self, fn: Callable[["LabelStudio"], Any],
              special: Mapping[int, Callable[[str], LabelStudioError]] | None = None) -> Any:
        """The JSON body of an SDK ``with_raw_response`` call, as the server sent it."""
        return self._call(fn, special).response.json()

    def _request(self, method: str, path: str, special: Mapping[int, Callable[[str], LabelStudioError]] | None,
                 **kwargs: Any) -> httpx.Response:
        def send(ls: "LabelStudio") -> httpx.Response:
            # the SDK's own HTTP client (its base URL, auth header, token exchange, timeout, no retries),
            # for endpoints it has no method for
            response = ls._client_wrapper.httpx_client.request(path.lstrip("/"), method=method, **kwargs)
            if not 200 <= response.status_code < 300:
                raise ApiError(status_code=response.status_code, headers=dict(response.headers), body=_body(response))
            return response
        return self._call(send, special)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send an authenticated request to any endpoint; return the decoded JSON body (None when empty).

        ``kwargs`` are those of the SDK's HTTP client: ``params``, ``json``, ``headers``.
        """
        response = self._request(method, path, None, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise LabelStudioError(f"{self.shown_url} answered {method} {path} with something that is not JSON: "
                                   "is this really a Label Studio server?") from None

    # ------------------------------------------------------------------ users

    def whoami(self) -> dict[str, Any]:
        """The token's user; the cheapest call that proves URL and token are right."""
        user = self._json(lambda ls: ls.users.with_raw_response.whoami())
        if not isinstance(user, Mapping) or "id" not in user:
            raise LabelStudioError(f"{self.shown_url} does not answer like Label Studio (no user from whoami)")
        return dict(user)

    # ------------------------------------------------------------------ projects

    def list_projects(self) -> Iterator[dict[str, Any]]:
        return self._projects()

    def _projects(self, title: str | None = None) -> Iterator[dict[str, Any]]:
        """Projects page by page; ``title`` asks the server for titles containing it (a superset of exact matches)."""
        page = 1
        while True:
            pager = self._call(lambda ls, page=page: ls.projects.list(page=page, page_size=PROJECT_PAGE_SIZE,
                                                                      title=title))
            yield from (_plain(p) for p in pager.items or [])
            if not pager.items or not getattr(pager.response, "next", None):
                return
            page += 1

    def get_project(self, project_id: int) -> dict[str, Any]:
        return self._json(lambda ls: ls.projects.with_raw_response.get(project_id), special={
            404: lambda detail: ProjectNotFound(f"no project with id {project_id} on Label Studio at "
                                                f"{self.shown_url}")})

    def find_project(self, ref: str | int) -> dict[str, Any] | None:
        """A project by id (digits) or exact title; None if there is none. Ambiguous titles are an error."""
        text = str(ref).strip()
        if text.isdigit():
            try:
                return self.get_project(int(text))
            except ProjectNotFound:
                return None
        matches = [p for p in self._projects(title=text) if p.get("title") == text]
        if len(matches) > 1:
            ids = ", ".join(str(p["id"]) for p in matches)
            raise LabelStudioError(f"{len(matches)} projects are titled {text!r} on {self.shown_url} (ids {ids}): "
                                   "pass --project with the id")
        return self.get_project(matches[0]["id"]) if matches else None

    def require_project(self, ref: str | int) -> dict[str, Any]:
        """A project that exists and whose config holds sourcemark annotations, or a clear error."""
        project = self.find_project(ref)
        if project is None:
            raise ProjectNotFound(f"no Label Studio project {ref!r} at {self.shown_url} "
                                  "(give its id or exact title; `ls push --create` creates it)")
        check_project_config(project)
        return project

    def create_project(self, title: str, label_config: str, **fields: Any) -> dict[str, Any]:
        def create(ls: "LabelStudio") -> Any:
            method = ls.projects.with_raw_response.create
            return method(**_keywords(method, {"title": title, "label_config": label_config, **fields}))
        return self._json(create)

    def update_project(self, project_id: int, **fields: Any) -> dict[str, Any]:
        def update(ls: "LabelStudio") -> Any:
            method = ls.projects.with_raw_response.update
            return method(project_id, **_keywords(method, fields))
        return self._json(update)

    def validate_config(self, label_config: str) -> None:
        """Raise LabelStudioError with the server's reason if it rejects the config."""
        # the SDK validates only against an existing project (projects.validate_label_config(id));
        # this endpoint checks a config before the project is created
        self._request("POST", "/api/projects/validate/", json={"label_config": label_config}, special={
            400: lambda detail: LabelStudioError(f"Label Studio at {self.shown_url} rejects the labelling config: "
                                                 f"{detail}")})

    # ------------------------------------------------------------------ tasks and predictions

    def iter_tasks(self, project_id: int) -> Iterator[dict[str, Any]]:
        """Every task of a project (data and meta, no annotations), page by page."""
        page = 1
        while True:
            try:
                pager = self._call(
                    lambda ls, page=page: ls.tasks.list(project=project_id, page=page, page_size=PAGE_SIZE,
                                                        fields="task_only"),
                    special={404: lambda detail: ProjectNotFound(f"no project with id {project_id} on Label "
                                                                 f"Studio at {self.shown_url} ({detail})")})
            except ProjectNotFound:
                if page > 1:
                    return  # past the last page
                raise
            tasks = [_plain(t) for t in pager.items or []]
            yield from tasks
            if not tasks or page * PAGE_SIZE >= (getattr(pager.response, "total", 0) or 0):
                return
            page += 1

    def list_predictions(self, project_id: int) -> list[dict[str, Any]]:
        body = self._json(lambda ls: ls.predictions.with_raw_response.list(project=project_id))
        return list(body.get("results", []) if isinstance(body, Mapping) else body or [])

    def import_tasks(self, project_id: int, tasks: list[dict[str, Any]]) -> list[int]:
        """Create tasks (with their predictions) in one request; return the new task ids in order."""
        body = self._json(lambda ls: ls.projects.with_raw_response.import_tasks(project_id, request=tasks,
                                                                                 return_task_ids=True))
        if isinstance(body, Mapping) and "task_ids" in body:
            return [int(t) for t in body["task_ids"]]
        if isinstance(body, Mapping) and "import" in body:  # asynchronous import (non-community editions)
            return self._wait_import(project_id, int(body["import"]))
        raise LabelStudioError(f"Label Studio at {self.shown_url} did not return the ids of imported tasks")

    def _wait_import(self, project_id: int, import_id: int, limit: float = 600.0) -> list[int]:
        started = time.time()
        while time.time() - started < limit:
            body = self._json(lambda ls: ls.tasks.with_raw_response.create_many_status(project_id, import_id))
            status = body.get("status")
            if status == "completed":
                return [int(t) for t in body.get("task_ids") or []]
            if status == "failed":
                raise LabelStudioError(f"Label Studio import {import_id} failed: {body.get('error')}")
            time.sleep(1.0)
        raise RequestTimeout(f"Label Studio import {import_id} did not finish within {limit:g} s")

    def import_predictions(self, project_id: int, predictions: list[dict[str, Any]]) -> int:
        """Add predictions (each with its ``task`` id) to existing tasks; return how many were created."""
        body = self._json(lambda ls: ls.projects.with_raw_response.import_predictions(project_id,
                                                                                      request=predictions))
        return int(body.get("created", len(predictions))) if isinstance(body, Mapping) else len(predictions)

    def create_annotation(self, task_id: int, result: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
        def create(ls: "LabelStudio") -> Any:
            method = ls.annotations.with_raw_response.create
            return method(task_id, **_keywords(method, {"result": result, **fields}))
        return self._json(create)

    # ------------------------------------------------------------------ export snapshots

    def export_snapshot(self, project_id: int, limit: float = 600.0) -> list[dict[str, Any]]:
        """Annotated tasks with full annotations and predictions, through an export snapshot.

        A snapshot (not ``/export``, which the SDK's ``exports.as_json`` uses on
        community editions) because only snapshots take serialization options:
        predictions in full (the plain JSON export gives their ids only) and
        regions with their ids (``JSON_MIN`` flattens them). The snapshot is
        deleted afterwards so repeated pulls leave nothing behind.
        """
        created = self._json(lambda ls: ls.projects.exports.with_raw_response.create(
            project_id,
            title="sourcemark pull",
            task_filter_options={"annotated": "only"},
            annotation_filter_options={"usual": True, "ground_truth": True, "skipped": False},
            serialization_options={"predictions": {"only_id": False},
                                   "annotations__completed_by": {"only_id": False}},
        ))
        export_id = int(created["id"])
        try:
            started, status = time.time(), created.get("status")
            while status not in ("completed", "failed"):
                if time.time() - started > limit:
                    raise RequestTimeout(f"Label Studio export snapshot {export_id} did not finish "
                                         f"within {limit:g} s")
                time.sleep(0.5)
                status = self._json(lambda ls: ls.projects.exports.with_raw_response.get(project_id,
                                                                                         export_id)).get("status")
            if status == "failed":
                raise LabelStudioError(f"Label Studio export snapshot {export_id} of project {project_id} failed")
            raw = self._call(lambda ls: b"".join(ls.projects.exports.download(project_id, export_id,
                                                                               export_type="JSON")))
        finally:
            try:
                self._call(lambda ls: ls.projects.exports.with_raw_response.delete(project_id, export_id))
            except LabelStudioError:
                pass
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
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
