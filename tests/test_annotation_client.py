"""Connection settings, token handling and error messages of the Label Studio client: no server needed."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import pytest

from sourcemark.annotation.client import (
    AuthError, ConfigMismatch, ConnectionSettings, LabelStudioClient, LabelStudioError, ProjectNotFound,
    RequestTimeout, Secret, ServerUnreachable, SettingsError, check_project_config, connect, resolve_settings,
)
from sourcemark.annotation.config import label_config

LEGACY = "0123456789abcdef0123456789abcdef01234567"


def jwt(claims: dict) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "LABEL_STUDIO_TIMEOUT", "SOURCEMARK_LS_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def settings(token: str = LEGACY, url: str = "http://ls.test") -> ConnectionSettings:
    return ConnectionSettings(url, Secret(token), "LABEL_STUDIO_API_KEY", 5.0)


def test_settings_precedence_flags_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    file = tmp_path / "ls.toml"
    file.write_text('url = "http://from-file:1"\napi_key = "file-token-123"\ntimeout = 7\n')
    s = resolve_settings(config=file)
    assert (s.url, s.token.reveal(), s.timeout) == ("http://from-file:1", "file-token-123", 7.0)
    assert str(file) in s.token_source
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://from-env:2/")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "env-token-456")
    s = resolve_settings(config=file)
    assert (s.url, s.token.reveal(), s.token_source) == ("http://from-env:2", "env-token-456", "LABEL_STUDIO_API_KEY")
    s = resolve_settings(url="http://flag:3", api_key="flag-token-789", config=file, timeout=2)
    assert (s.url, s.token.reveal(), s.token_source, s.timeout) == ("http://flag:3", "flag-token-789", "--api-key", 2)


def test_default_config_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "xdg" / "sourcemark" / "labelstudio.toml"
    path.parent.mkdir(parents=True)
    path.write_text('url = "http://default:9"\napi_key = "tok-from-default"\n')
    assert resolve_settings().url == "http://default:9"


def test_missing_or_bad_settings_are_clear() -> None:
    with pytest.raises(SettingsError, match="no Label Studio URL"):
        resolve_settings()
    with pytest.raises(SettingsError, match="no Label Studio API token"):
        resolve_settings(url="http://x")
    with pytest.raises(SettingsError, match="http://"):
        resolve_settings(url="ftp://x", api_key="abcdef")


def test_malformed_url_is_one_line_settings_error_before_any_request() -> None:
    cases = {
        "http://[::1": "Invalid IPv6 URL",
        "http://ls.test:99999": "Port out of range 0-65535",
        "http://ls.test:port": "Port could not be cast to integer value as 'port'",
        "http:///api": "it has no host name",
        "http://ls test:8080": "it contains a space or a control character",
        "http://ls.test:8080/?next=/": "it has a query or fragment",
    }
    for url, problem in cases.items():
        with pytest.raises(SettingsError) as info:
            resolve_settings(url=url, api_key=LEGACY)
        message = str(info.value)
        assert message.startswith(f"Label Studio URL {url.rstrip('/')!r} is malformed: {problem}"), message
        assert "\n" not in message
    with pytest.raises(SettingsError, match=r"^Label Studio URL 'http://\[::1' is malformed: Invalid IPv6 URL"):
        connect(ConnectionSettings("http://[::1", Secret(LEGACY), "LABEL_STUDIO_API_KEY", 5.0))
    for good in ("https://ls.example/labelstudio", "http://[::1]:8080"):
        assert resolve_settings(url=good + "/", api_key=LEGACY).url == good


def test_a_password_in_the_url_is_refused_and_never_shown() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    url = f"http://annotator:pa%40ss-w0rd@127.0.0.1:{port}"
    with pytest.raises(SettingsError) as info:
        resolve_settings(url=url, api_key=LEGACY)
    message = str(info.value)
    assert message.startswith(f"Label Studio URL 'http://***@127.0.0.1:{port}' has a user name or password in it")
    assert "API key" in message and "\n" not in message
    settings = ConnectionSettings(url, Secret(LEGACY), "LABEL_STUDIO_API_KEY", 5.0)  # made without the check
    shown = [message, repr(settings), str(settings)]
    with pytest.raises(SettingsError):
        connect(settings)  # the client checks the URL too
    for bad in (f"http://annotator:s3cret@[::1:{port}", "ftp://annotator:s3cret@ls.test", "http://annotator:s3cret@",
                "http://annotator@ls.test:8080"):
        with pytest.raises(SettingsError) as info:
            resolve_settings(url=bad, api_key=LEGACY)
        shown.append(str(info.value))
        assert "://***@" in str(info.value)
    for text in shown:
        for secret in ("pa%40ss-w0rd", "pa@ss-w0rd", "s3cret", "annotator"):
            assert secret not in text, text


def test_bad_toml_does_not_echo_the_token(tmp_path: Path) -> None:
    file = tmp_path / "bad.toml"
    file.write_text('api_key = "secret-token-xyz\n')
    with pytest.raises(SettingsError) as info:
        resolve_settings(config=file)
    assert "secret-token-xyz" not in str(info.value)


def test_tokens_are_masked_in_reprs() -> None:
    s = settings()
    client = LabelStudioClient(s)
    for text in (repr(s), str(s), repr(client), str(s.token), repr(s.token)):
        assert LEGACY not in text
    client.close()


class FakeServer:
    """A real HTTP server on 127.0.0.1 that answers every request with ``respond(method, path, body)``.

    ``respond`` returns (status, body) or (status, body, headers): a dict or list
    body is sent as JSON, a str as HTML. Each request is recorded with its method, path, Authorization header
    and body.
    """

    def __init__(self, respond: Callable[[str, str, bytes], tuple[int, Any]]) -> None:
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = urlsplit(self.path).path
                server.requests.append({"method": self.command, "path": path, "body": body,
                                        "auth": self.headers.get("authorization")})
                status, payload, *headers = respond(self.command, path, body)
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in (headers[0] if headers else {}).items():
                    self.send_header(name, value)
                self.send_header("content-type", "text/html" if isinstance(payload, str) else "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = answer

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[..., FakeServer]]:
    servers: list[FakeServer] = []

    def start(respond: Callable[[str, str, bytes], tuple[int, Any]]) -> FakeServer:
        servers.append(FakeServer(respond))
        return servers[-1]
    yield start
    for server in servers:
        server.close()


def client_for(server: FakeServer, token: str = LEGACY, timeout: float = 5.0) -> LabelStudioClient:
    return LabelStudioClient(ConnectionSettings(server.url, Secret(token), "LABEL_STUDIO_API_KEY", timeout))


def test_legacy_token_is_sent_as_token_header(serve) -> None:
    server = serve(lambda method, path, body: (200, {"id": 1}))
    with client_for(server) as client:
        assert client.whoami() == {"id": 1}
    assert server.requests[0]["auth"] == f"Token {LEGACY}"


def test_personal_access_token_is_exchanged_and_renewed(serve) -> None:
    pat = jwt({"token_type": "refresh", "exp": time.time() + 3600, "user_id": "1"})
    calls: list[str] = []

    def respond(method: str, path: str, body: bytes) -> tuple[int, Any]:
        calls.append(path)
        if path == "/api/token/refresh/":
            assert json.loads(body) == {"refresh": pat}
            return 200, {"access": jwt({"token_type": "access", "exp": time.time() + 300, "n": len(calls)})}
        if len([c for c in calls if c != "/api/token/refresh/"]) == 2:
            return 401, {"detail": "Token expired"}  # the first access token "expired"
        return 200, {"id": 1}
    server = serve(respond)
    with client_for(server, pat) as client:
        client.whoami()
        client.whoami()
    assert server.paths() == ["/api/token/refresh/", "/api/current-user/whoami", "/api/current-user/whoami",
                              "/api/token/refresh/", "/api/current-user/whoami"]
    assert all(r["auth"].startswith("Bearer ") for r in server.requests if r["path"] != "/api/token/refresh/")
    assert all(pat not in (r["auth"] or "") for r in server.requests), "the PAT itself is never a header"


def test_rejected_personal_access_token(serve) -> None:
    pat = jwt({"token_type": "refresh", "exp": time.time() + 3600})
    server = serve(lambda method, path, body: (401, {"detail": "Token is invalid", "code": "token_not_valid"}))
    with pytest.raises(AuthError, match="personal access token") as info:
        client_for(server, pat).whoami()
    assert pat not in str(info.value)
    assert server.paths() == ["/api/token/refresh/"], "a refused exchange is not retried"


def test_expired_personal_access_token_is_refused_before_sending_it(serve) -> None:
    pat = jwt({"token_type": "refresh", "exp": time.time() - 60})
    server = serve(lambda method, path, body: (200, {"id": 1}))
    with pytest.raises(AuthError, match="personal access token from LABEL_STUDIO_API_KEY") as info:
        client_for(server, pat)
    assert pat not in str(info.value) and "\n" not in str(info.value)
    assert server.requests == []


def test_wrong_token_is_one_clear_line_without_the_token(serve) -> None:
    server = serve(lambda method, path, body: (401, {"detail": f"Invalid token {LEGACY}."}))
    with pytest.raises(AuthError) as info:
        client_for(server).whoami()
    message = str(info.value)
    assert "rejected the API token from LABEL_STUDIO_API_KEY" in message
    assert LEGACY not in message and "\n" not in message
    assert len(server.requests) == 1


def test_server_down_is_reported_with_the_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    client = LabelStudioClient(settings(url=f"http://127.0.0.1:{port}"))
    with pytest.raises(ServerUnreachable, match=f"cannot connect to Label Studio at http://127.0.0.1:{port}"):
        client.whoami()


def test_timeout_is_reported() -> None:
    with socket.socket() as listener:  # the kernel accepts connections into the backlog; nothing answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        client = LabelStudioClient(ConnectionSettings(url, Secret(LEGACY), "LABEL_STUDIO_API_KEY", 0.5))
        started = time.time()
        with pytest.raises(RequestTimeout, match="did not answer GET /api/current-user/whoami within 0.5 s"):
            client.whoami()
        assert time.time() - started < 5, "one attempt, no retries"
        client.close()


def test_failures_are_not_retried(serve) -> None:
    """The SDK retries 5xx, 408, 409 and 429 by default; the loop reports them at once instead."""
    for status in (503, 429, 409):
        server = serve(lambda method, path, body, status=status: (status, {"detail": "busy"}))
        with pytest.raises(LabelStudioError, match=f"GET /api/current-user/whoami failed with HTTP {status}: busy"):
            client_for(server).whoami()
        assert len(server.requests) == 1


def test_redirect_is_reported_not_followed(serve) -> None:
    server = serve(lambda method, path, body: (301, "", {"location": "https://ls.example/api/current-user/whoami"}))
    with pytest.raises(LabelStudioError, match="redirect .*to https://ls.example/api/current-user/whoami"):
        client_for(server).whoami()
    assert len(server.requests) == 1


def test_not_label_studio_is_reported(serve) -> None:
    server = serve(lambda method, path, body: (200, "<html>hello</html>"))
    with pytest.raises(LabelStudioError, match="not JSON"):
        client_for(server).whoami()


def test_missing_project_by_id_and_by_title(serve) -> None:
    def respond(method: str, path: str, body: bytes) -> tuple[int, Any]:
        if path == "/api/projects/":
            return 200, {"results": [{"id": 1, "title": "other"}], "next": None}
        return 404, {"detail": "Not found."}
    client = client_for(serve(respond))
    assert client.find_project("42") is None and client.find_project("news") is None
    with pytest.raises(ProjectNotFound, match="no Label Studio project 'news'"):
        client.require_project("news")


def test_mismatched_project_config_is_refused() -> None:
    check_project_config({"id": 1, "title": "ok", "label_config": label_config()})
    with pytest.raises(ConfigMismatch, match="does not match sourcemark's") as info:
        check_project_config({"id": 2, "title": "images", "label_config": "<View><Image name='i' value='$img'/></View>"})
    assert "\n" not in str(info.value)
