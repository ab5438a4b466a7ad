"""Issue 9: with 500 open incidents and 200 units, time a unit status change to the browser.

The figure is printed (and reported by ``goldentime bench console``); nothing about time is
asserted here, only that every change reached the board.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from bench.console import N_INCIDENTS, N_UNITS, measure, open_board, seed_board, summary
from goldentime.settings import load_settings
from ops.up import LocalSystem

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture(scope="module")
def demo_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    settings = load_settings(
        data={"dir": Path(tmp_path_factory.mktemp("scale"))}, console={"port": 0}
    )
    previous = os.environ.get("GOLDENTIME_AUTH")
    os.environ["GOLDENTIME_AUTH"] = "demo"
    try:
        system = LocalSystem(settings, echo=lambda _line: None).start()
    finally:
        if previous is None:
            os.environ.pop("GOLDENTIME_AUTH", None)
        else:
            os.environ["GOLDENTIME_AUTH"] = previous
    try:
        yield system
    finally:
        system.stop()


def test_status_change_reaches_a_loaded_board(browser: Browser, demo_system: LocalSystem) -> None:
    unit_id = seed_board(demo_system.settings)
    page = open_board(browser, demo_system.url)
    assert page.locator("#incidents tr").count() >= N_INCIDENTS
    assert page.locator("#unitrows tr").count() >= N_UNITS
    samples = measure(page, unit_id=unit_id, rounds=5)
    assert len(samples) == 5 and all(s > 0 for s in samples)
    print(f"\nstatus_to_browser_ms {summary(samples)['status_to_browser_ms']}")
