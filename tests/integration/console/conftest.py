"""A running system with authentication REQUIRED, and Debian chromium for Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts.demo import (
    DEMO_MASTODON_TOKEN,
    DEMO_SANDBOX_SID,
    DEMO_SANDBOX_TOKEN,
    DEMO_TWILIO_SID,
    DEMO_TWILIO_TOKEN,
    demo_environment,
)
from alerts.fakes.mastodon_api import FakeMastodonApi
from alerts.fakes.twilio_api import FakeTwilioApi
from goldentime.settings import load_settings
from ops.up import LocalSystem

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def alert_fakes() -> Iterator[dict[str, Any]]:
    """The loopback Twilio (live, sandbox) and Mastodon fakes with the demo credentials."""
    fakes = {
        "twilio": FakeTwilioApi(account_sid=DEMO_TWILIO_SID, auth_token=DEMO_TWILIO_TOKEN),
        "sandbox": FakeTwilioApi(account_sid=DEMO_SANDBOX_SID, auth_token=DEMO_SANDBOX_TOKEN),
        "mastodon": FakeMastodonApi(token=DEMO_MASTODON_TOKEN),
    }
    for fake in fakes.values():
        fake.start()
    yield fakes
    for fake in fakes.values():
        fake.stop()


@pytest.fixture(scope="session")
def secured_system(
    tmp_path_factory: pytest.TempPathFactory, alert_fakes: dict[str, Any]
) -> Iterator[LocalSystem]:
    """Its own system (not the shared demo-mode one): every page needs a signed-in user.

    Its alert channels point at the loopback fakes, with the demo subscribers seeded.
    """
    settings = load_settings(
        data={"dir": tmp_path_factory.mktemp("console")},
        console={"port": 0},
        logging={"level": "info"},
    )
    system = LocalSystem(settings, echo=lambda _line: None)
    extra = {
        "GOLDENTIME_AUTH": "required",
        **demo_environment(
            public_base_url=system.url,
            twilio_url=alert_fakes["twilio"].base_url,
            sandbox_url=alert_fakes["sandbox"].base_url,
            mastodon_url=alert_fakes["mastodon"].base_url,
        ),
    }
    previous = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)  # children inherit the environment at start
    try:
        running = system.start()
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def accounts(secured_system: LocalSystem) -> Any:
    # Imported here, after the system made the schema: console.account_store registers tables.
    from argon2 import PasswordHasher

    from console.account_store import create_tables
    from console.accounts import Accounts
    from goldentime.db import engine_for, session_factory, writer

    engine = engine_for(secured_system.settings)
    create_tables(engine)
    # Cheapest argon2id for test users: a sign-in verifies with the stored hash's parameters.
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return Accounts(session_factory(writer(engine)), hasher=fast)


BROWSER_PASSWORD = "browser-test-pw"
LIVE_TIMEOUT_MS = 20_000


def sign_in(page: Any, base: str, path: str, user: str, password: str = BROWSER_PASSWORD) -> None:
    """Sign in through the login form that ``path`` redirects to; waits for the live stream."""
    from playwright.sync_api import expect

    page.goto(f"{base}{path}")
    expect(page).to_have_url(f"{base}/login?next={path.replace('/', '%2F')}")
    page.get_by_label("사용자 User").fill(user)
    page.get_by_label("비밀번호 Password").fill(password)
    page.get_by_role("button", name="로그인 Sign in").click()
    expect(page.locator("#conn")).not_to_have_class("conn down", timeout=LIVE_TIMEOUT_MS)
