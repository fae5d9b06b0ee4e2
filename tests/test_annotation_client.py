"""Connection settings, token handling and error messages of the Label Studio client: no server needed."""

from __future__ import annotations

import base64
import json
import socket
import time
from pathlib import Path

import httpx
import pytest

from sourcemark.annotation.client import (
    AuthError, ConfigMismatch, ConnectionSettings, LabelStudioClient, LabelStudioError, ProjectNotFound,
    RequestTimeout, Secret, ServerUnreachable, SettingsError, check_project_config, resolve_settings,
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


def mock(handler) -> LabelStudioClient:
    return LabelStudioClient(settings(), transport=httpx.MockTransport(handler))


def test_legacy_token_is_sent_as_token_header() -> None:
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["auth"] = request.headers["authorization"]
        return httpx.Response(200, json={"id": 1})
    assert mock(handler).whoami() == {"id": 1}
    assert seen["auth"] == f"Token {LEGACY}"


def test_personal_access_token_is_exchanged_and_renewed() -> None:
    pat = jwt({"token_type": "refresh", "exp": time.time() + 3600, "user_id": "1"})
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append((request.url.path, request.headers.get("authorization")))
        if request.url.path == "/api/token/refresh/":
            assert json.loads(request.content) == {"refresh": pat}
            return httpx.Response(200, json={"access": jwt({"token_type": "access", "exp": time.time() + 300,
                                                            "n": len(calls)})})
        if len([c for c in calls if c[0] != "/api/token/refresh/"]) == 2:
            return httpx.Response(401, json={"detail": "Token expired"})  # the first access token "expired"
        return httpx.Response(200, json={"id": 1})
    client = LabelStudioClient(settings(pat), transport=httpx.MockTransport(handler))
    client.whoami()
    client.whoami()
    paths = [c[0] for c in calls]
    assert paths == ["/api/token/refresh/", "/api/current-user/whoami", "/api/current-user/whoami",
                     "/api/token/refresh/", "/api/current-user/whoami"]
    assert all(auth.startswith("Bearer ") for path, auth in calls if path != "/api/token/refresh/")


def test_rejected_personal_access_token() -> None:
    pat = jwt({"token_type": "refresh", "exp": time.time() + 3600})
    client = LabelStudioClient(settings(pat), transport=httpx.MockTransport(
        lambda r: httpx.Response(401, json={"detail": "Token is invalid", "code": "token_not_valid"})))
    with pytest.raises(AuthError, match="personal access token") as info:
        client.whoami()
    assert pat not in str(info.value)


def test_wrong_token_is_one_clear_line_without_the_token() -> None:
    client = mock(lambda r: httpx.Response(401, json={"detail": f"Invalid token {LEGACY}."}))
    with pytest.raises(AuthError) as info:
        client.whoami()
    message = str(info.value)
    assert "rejected the API token from LABEL_STUDIO_API_KEY" in message
    assert LEGACY not in message and "\n" not in message


def test_server_down_is_reported_with_the_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    client = LabelStudioClient(settings(url=f"http://127.0.0.1:{port}"))
    with pytest.raises(ServerUnreachable, match=f"cannot connect to Label Studio at http://127.0.0.1:{port}"):
        client.whoami()


def test_timeout_is_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)
    with pytest.raises(RequestTimeout, match="did not answer GET /api/current-user/whoami within 5 s"):
        mock(handler).whoami()


def test_not_label_studio_is_reported() -> None:
    with pytest.raises(LabelStudioError, match="not JSON"):
        mock(lambda r: httpx.Response(200, text="<html>hello</html>")).whoami()


def test_missing_project_by_id_and_by_title() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/projects/":
            return httpx.Response(200, json={"results": [{"id": 1, "title": "other"}], "next": None})
        return httpx.Response(404, json={"detail": "Not found."})
    client = mock(handler)
    assert client.find_project("42") is None and client.find_project("news") is None
    with pytest.raises(ProjectNotFound, match="no Label Studio project 'news'"):
        client.require_project("news")


def test_mismatched_project_config_is_refused() -> None:
    check_project_config({"id": 1, "title": "ok", "label_config": label_config()})
    with pytest.raises(ConfigMismatch, match="does not match sourcemark's") as info:
        check_project_config({"id": 2, "title": "images", "label_config": "<View><Image name='i' value='$img'/></View>"})
    assert "\n" not in str(info.value)
