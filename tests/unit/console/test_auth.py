"""Sign-in, sessions, CSRF, bearer tokens, rate limit, audit and demo mode."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from gt_published import sent
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from console.accounts import Accounts
from console.auth import AuthConfig, SessionSigner, auth_config
from console.errors import AccountError, AuthConfigError
from console.roles import Role
from goldentime.errors import ConfigError
from goldentime.settings import load_settings

from .conftest import NOW, PASSWORD, SecuredConsole


def login_token(client) -> str:  # type: ignore[no-untyped-def]
    return str(client.get("/login").text.split('name="token" value="')[1].split('"')[0])


def test_passwords_are_hashed_and_verified(secured: SecuredConsole) -> None:
    from console.account_store import UserRow

    with secured.accounts._sessions() as session:
        stored = session.get(UserRow, "disp")
        assert stored is not None
        assert PASSWORD not in stored.password_hash
        assert stored.password_hash.startswith("$argon2id$")
    assert secured.accounts.verify_password("disp", PASSWORD) is not None
    assert secured.accounts.verify_password("disp", "wrong-password") is None
    assert secured.accounts.verify_password("nobody", PASSWORD) is None


def test_session_cookie_is_httponly_strict_and_expires(secured: SecuredConsole) -> None:
    client = secured.client
    r = client.post(
        "/login",
        data={"username": "disp", "password": PASSWORD, "token": login_token(client)},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=3600" in cookie


def test_expired_or_forged_session_is_refused() -> None:
    signer = SessionSigner("k", max_age_s=60)

    class TwoHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 7200

    old = URLSafeTimedSerializer("k", salt="goldentime-session", signer=TwoHoursAgo)
    assert signer.read(old.dumps({"u": "disp", "c": "x"})) is None
    value, _ = signer.issue("disp")
    assert signer.read(value) is not None
    assert signer.read(value[:-2] + "xx") is None
    assert SessionSigner("other-key", max_age_s=60).read(value) is None


def test_wrong_password_then_rate_limited(secured: SecuredConsole) -> None:
    client = secured.client
    for _ in range(5):
        r = client.post(
            "/login",
            data={"username": "disp", "password": "nope-nope", "token": login_token(client)},
        )
        assert r.status_code == 401
    r = client.post(
        "/login", data={"username": "disp", "password": PASSWORD, "token": login_token(client)}
    )
    assert r.status_code == 429, "even the right password waits once the limit is hit"
    assert int(r.headers["Retry-After"]) > 0


def test_login_form_token_is_required(secured: SecuredConsole) -> None:
    r = secured.client.post("/login", data={"username": "disp", "password": PASSWORD})
    assert r.status_code == 403


def test_state_changing_session_request_needs_csrf(secured: SecuredConsole) -> None:
    browser = secured.sign_in("disp")
    token = browser.headers.pop("X-CSRF-Token")
    body = {"lat": 37.57, "lon": 126.98, "type": "fire"}
    assert browser.post("/api/calls", json=body).status_code == 403
    assert browser.post("/api/calls", json=body, headers={"X-CSRF-Token": "x"}).status_code == 403
    assert browser.post("/api/calls", json=body, headers={"X-CSRF-Token": token}).status_code == 202


def test_logout_clears_the_session(secured: SecuredConsole) -> None:
    browser = secured.sign_in("disp")
    assert browser.post("/logout").status_code == 204
    assert browser.get("/api/me").status_code == 401


def test_bearer_token_needs_no_csrf_and_sets_the_actor(secured: SecuredConsole) -> None:
    token = secured.accounts.issue_token("disp", now=NOW)
    client = secured.client
    headers = {"Authorization": f"Bearer {token}", "X-Goldentime-User": "mallory"}
    r = client.post("/api/incidents/INC-1/dispatch", json={}, headers=headers)
    assert r.status_code == 202
    command = sent(secured.publisher)[-1][1]
    assert command.actor == "disp"  # type: ignore[attr-defined]
    assert client.get("/api/units", headers={"Authorization": "Bearer gt_bogus"}).status_code == 401
    secured.accounts.revoke_tokens("disp")
    assert client.get("/api/units", headers=headers).status_code == 401


def test_commands_are_audited_with_user_time_and_command(secured: SecuredConsole) -> None:
    browser = secured.sign_in("crew1")
    r = browser.post("/api/units/U-1/acknowledge", json={})
    assert r.status_code == 202
    entry = secured.accounts.audit_log(limit=1)[0]
    assert (entry.user_name, entry.via, entry.path, entry.status) == (
        "crew1",
        "session",
        "/api/units/U-1/acknowledge",
        202,
    )
    assert entry.at == NOW and entry.command_id == r.json()["command_id"]
    assert sent(secured.publisher)[-1][1].actor == "crew1"  # type: ignore[attr-defined]


def test_pages_redirect_to_login_and_back_only_locally(secured: SecuredConsole) -> None:
    r = secured.client.get("/crew?unit=U-1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Fcrew")
    page = secured.client.get("/login?next=https://evil.example/").text
    assert 'name="next" value="/"' in page
    assert "DEMO" not in page


def test_demo_mode_anonymous_acts_as_demo_with_banner(demo: SecuredConsole) -> None:
    client = demo.client
    assert "DEMO — authentication off" in client.get("/").text
    assert "DEMO — authentication off" in client.get("/crew").text
    assert "DEMO — authentication off" in client.get("/login").text
    me = client.get("/api/me").json()
    assert me["name"] == "demo" and set(me["roles"]) == {r.value for r in Role}
    r = client.post("/api/calls", json={"lat": 37.57, "lon": 126.98, "type": "fire"})
    assert r.status_code == 202
    client.post("/api/incidents/I/close", json={}, headers={"X-Goldentime-User": "kim.disp"})
    assert sent(demo.publisher)[-1][1].actor == "kim.disp"  # type: ignore[attr-defined]
    assert demo.accounts.get("dispatcher") is not None, "demo users are seeded"


def test_signed_in_user_in_demo_mode_still_needs_csrf(demo: SecuredConsole) -> None:
    browser = demo.sign_in("disp")
    browser.headers.pop("X-CSRF-Token")
    assert browser.post("/api/incidents/I/close", json={}).status_code == 403


def test_auth_mode_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOLDENTIME_AUTH", raising=False)
    monkeypatch.delenv("GOLDENTIME_CONFIG", raising=False)
    assert auth_config(load_settings(data={"dir": tmp_path})).mode == "required"
    monkeypatch.setenv("GOLDENTIME_AUTH", "demo")
    assert auth_config(load_settings(data={"dir": tmp_path})).demo
    monkeypatch.setenv("GOLDENTIME_AUTH", "off")
    with pytest.raises(ConfigError, match="GOLDENTIME_AUTH"):
        load_settings(data={"dir": tmp_path})
    monkeypatch.delenv("GOLDENTIME_AUTH")
    config = tmp_path / "goldentime.toml"
    config.write_text('[console]\nauth = "demo"\n', encoding="utf-8")
    monkeypatch.setenv("GOLDENTIME_CONFIG", str(config))
    assert auth_config(load_settings(data={"dir": tmp_path})).demo, "the file's auth is used"
    with pytest.raises(AuthConfigError):
        AuthConfig(mode="none")  # type: ignore[arg-type]


def test_account_validation(secured: SecuredConsole) -> None:
    accounts: Accounts = secured.accounts
    with pytest.raises(AccountError, match="too short"):
        accounts.add_user("newbie", roles=[Role.DISPATCHER], password="short", now=NOW)
    with pytest.raises(AccountError, match="already exists"):
        accounts.add_user("disp", roles=[Role.DISPATCHER], password=PASSWORD, now=NOW)
    with pytest.raises(AccountError, match="needs --unit"):
        accounts.add_user("crew9", roles=[Role.CREW], password=PASSWORD, now=NOW)
    with pytest.raises(AccountError, match="user name"):
        accounts.add_user("Bad Name!", roles=[Role.ADMIN], password=PASSWORD, now=NOW)
