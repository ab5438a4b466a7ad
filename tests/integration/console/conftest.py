"""A running system with authentication REQUIRED, and Debian chromium for Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from goldentime.settings import load_settings
from goldentime.up import LocalSystem

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
def secured_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    """Its own system (not the shared demo-mode one): every page needs a signed-in user."""
    settings = load_settings(
        data_dir=tmp_path_factory.mktemp("console"), console_port=0, log_level="info"
    )
    previous = os.environ.get("GOLDENTIME_AUTH")
    os.environ["GOLDENTIME_AUTH"] = "required"  # children inherit the environment at start
    try:
        running = LocalSystem(settings, echo=lambda _line: None).start()
    finally:
        if previous is None:
            os.environ.pop("GOLDENTIME_AUTH", None)
        else:
            os.environ["GOLDENTIME_AUTH"] = previous
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def accounts(secured_system: LocalSystem) -> Any:
    # Imported here, after the system made the schema: console.store registers tables.
    from console.accounts import Accounts
    from console.store import create_tables
    from goldentime.db import engine_for, session_factory

    engine = engine_for(secured_system.settings)
    create_tables(engine)
    return Accounts(session_factory(engine))
