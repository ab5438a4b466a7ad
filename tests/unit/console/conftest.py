"""Console fixtures: an app with auth required, a fake publisher, one user per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from console.accounts import Accounts
from console.app import create_app
from console.auth import AuthConfig
from console.basemap import Basemap
from console.roles import Role
from goldentime.broker.publisher import InMemoryPublisher
from goldentime.clock import ManualClock
from goldentime.db import make_engine, session_factory, writer
from goldentime.settings import load_settings

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
PASSWORD = "correct-horse-9"
# The basemap depends on the shipped data only: built once for every console of the session.
SHARED_BASEMAP = Basemap(load_settings())
# Argon2id at its cheapest for test users (the library's defaults take ~0.7 s a hash, four
# users a console); verification reads the parameters from each hash, so logins are cheap too.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass
class SecuredConsole:
    app: FastAPI
    client: TestClient
    accounts: Accounts
    publisher: InMemoryPublisher
    clock: ManualClock

    def sign_in(self, name: str, password: str = PASSWORD) -> TestClient:
        """A new browser (own cookie jar) signed in as ``name``; CSRF header preset."""
        browser = TestClient(self.app, base_url="http://testserver")
        form = browser.get("/login")
        token = form.text.split('name="token" value="')[1].split('"')[0]
        r = browser.post(
            "/login",
            data={"username": name, "password": password, "token": token, "next": "/"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        browser.headers["X-CSRF-Token"] = browser.get("/api/me").json()["csrf_token"]
        return browser


ROLE_USERS = {
    Role.DISPATCHER: "disp",
    Role.SUPERVISOR: "super",
    Role.CREW: "crew1",
    Role.ADMIN: "adm",
}


def make_console(tmp_path: Path, *, mode: str = "required") -> Iterator[SecuredConsole]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    clock = ManualClock(NOW)
    publisher = InMemoryPublisher()
    app = create_app(
        load_settings(data={"dir": tmp_path}),
        publisher=publisher,
        engine=engine,
        clock=clock,
        auth=AuthConfig(mode=mode, secret_key="unit-test-secret", session_max_age_s=3600),  # type: ignore[arg-type]
        basemap=SHARED_BASEMAP,
    )
    accounts = Accounts(session_factory(writer(engine)), hasher=FAST_HASHER)
    for role, name in ROLE_USERS.items():
        unit = "U-1" if role is Role.CREW else None
        accounts.add_user(name, roles=[role], password=PASSWORD, now=NOW, unit_id=unit)
    with TestClient(app) as client:
        yield SecuredConsole(app, client, accounts, publisher, clock)


@pytest.fixture(scope="session")
def shared_basemap() -> Basemap:
    return SHARED_BASEMAP


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[SecuredConsole]:
    yield from make_console(tmp_path)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[SecuredConsole]:
    yield from make_console(tmp_path, mode="demo")
