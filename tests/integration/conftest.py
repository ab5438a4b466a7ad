"""Shared integration fixtures: the real system (embedded broker, worker, console, SQLite)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from goldentime.settings import Settings, load_settings
from ops.up import LocalSystem


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    """One running system for the session: Tansu, one dispatch worker, the console."""
    data_dir: Path = tmp_path_factory.mktemp("goldentime")
    settings = load_settings(
        data={"dir": data_dir}, console={"port": 0, "auth": "demo"}, logging={"level": "info"}
    )
    lines: list[str] = []
    running = LocalSystem(settings, echo=lines.append)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the session (Debian's, started here as the postgres user)."""
    from gt_postgres import temporary_postgres, unavailable_reason

    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {reason}")
        pytest.skip(reason)
    with temporary_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def system_settings(system: LocalSystem) -> Settings:
    return system.settings
