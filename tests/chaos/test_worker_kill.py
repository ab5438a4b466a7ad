"""The 2,000-call replay while the dispatch worker is SIGKILLed twice and restarted.

At-least-once delivery plus idempotent intake must give: no call lost, no incident opened
twice for one event (the grouping is exactly the planted one), and one timeline entry per call.
Calls are produced in three parts so that some arrive while the worker is dead.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dispatch_replay import (
    call_timeline_entries,
    produce_calls,
    stored_count,
    stored_groups,
    stored_links,
)

from dispatch.catalog import load_catalog
from dispatch.replay import generate_replay
from goldentime.db import make_engine
from goldentime.settings import load_settings
from ops.up import LocalSystem

pytestmark = pytest.mark.chaos

N_CALLS = 2000
PREFIX = "chaos"
WORKER = "dispatch-1"
STEP_TIMEOUT_S = 40.0


@pytest.fixture
def chaos_system(tmp_path: Path) -> Iterator[LocalSystem]:
    settings = load_settings(
        data={"dir": tmp_path}, console={"port": 0}, broker={"session_timeout_s": 2.0}
    )
    running = LocalSystem(settings, echo=lambda _line: None)
    running.env["GOLDENTIME_KAFKA_SESSION_TIMEOUT_S"] = "2"  # quick rejoin after a kill
    running.start()
    try:
        yield running
    finally:
        running.stop()


def supervise_until(system: LocalSystem, done: Callable[[], bool], what: str) -> None:
    """Tick the supervisor (so crashed workers restart) until ``done()`` holds."""
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        system.tick()
        time.sleep(0.05)


def test_replay_survives_two_worker_kills(chaos_system: LocalSystem) -> None:
    system = chaos_system
    replay = generate_replay(N_CALLS, seed=119, prefix=PREFIX, catalog=load_catalog())
    parts = [replay.calls[i::3] for i in range(3)]  # each part spans the whole replay
    engine = make_engine(system.settings.effective_database_url)
    kills: list[int] = []
    try:
        for part in parts[:2]:
            before = stored_count(engine, PREFIX)
            produce_calls(system.bootstrap, part)
            supervise_until(
                system, lambda b=before: stored_count(engine, PREFIX) > b, "progress before a kill"
            )
            pid = system.supervisor.pids()[WORKER]
            os.kill(pid, signal.SIGKILL)
            kills.append(pid)
            supervise_until(
                system,
                lambda pid=pid: system.supervisor.pids().get(WORKER, pid) != pid,
                "the worker to be restarted",
            )
        produce_calls(system.bootstrap, parts[2])
        supervise_until(system, lambda: stored_count(engine, PREFIX) >= N_CALLS, "every call")
        assert system.supervisor.restarts(WORKER) == 2
        links = stored_links(engine, PREFIX)
        assert set(links) == set(replay.event_of), "lost calls"
        assert stored_groups(links) == replay.groups(), "duplicated or wrongly merged incidents"
        entries = call_timeline_entries(engine, set(links.values()))
        for incident_id, call_ids in entries.items():
            expected = sorted(c for c, i in links.items() if i == incident_id)
            assert sorted(call_ids) == expected, f"timeline of {incident_id}"
    finally:
        engine.dispose()
    assert len(set(kills)) == 2
