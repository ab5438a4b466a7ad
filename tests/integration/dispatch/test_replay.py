"""A replay of 2,000 calls with planted duplicates through the real broker and worker.

Calls are produced straight onto the ``calls`` topic (kafka-python, keyed by spatial cell as
the console keys them): the HTTP intake path is covered by tests/integration/goldentime, and
producing directly takes well under a second for 2,000 calls, so the time goes to what is under
test here: partitioned intake, batching, cell-border correlation and the store.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from dispatch_replay import (
    call_timeline_entries,
    produce_calls,
    stored_count,
    stored_groups,
    stored_links,
)
from gt_testing import wait_until

from dispatch.catalog import load_catalog
from dispatch.replay import generate_replay
from goldentime.db import make_engine
from ops.up import LocalSystem

pytestmark = pytest.mark.integration

N_CALLS = 2000
STORED_WITHIN_S = 90.0


def test_replay_of_2000_calls_forms_exactly_the_planted_incidents(system: LocalSystem) -> None:
    prefix = f"rp{uuid.uuid4().hex[:6]}"
    replay = generate_replay(N_CALLS, seed=2026, prefix=prefix, catalog=load_catalog())
    assert any(len(g) > 1 for g in replay.groups())
    engine = make_engine(system.settings.effective_database_url)
    try:
        produce_calls(system.bootstrap, replay.calls)
        done = wait_until(
            lambda: stored_count(engine, prefix) >= N_CALLS, timeout_s=STORED_WITHIN_S
        )
        assert done, f"{stored_count(engine, prefix)} of {N_CALLS} calls stored"
        links = stored_links(engine, prefix)
        assert set(links) == set(replay.event_of)  # every call stored, once (primary key)
        assert stored_groups(links) == replay.groups()
        entries = call_timeline_entries(engine, set(links.values()))
        for incident_id, call_ids in entries.items():
            expected = sorted(c for c, i in links.items() if i == incident_id)
            assert sorted(call_ids) == expected, incident_id
    finally:
        engine.dispose()
    biggest = max(replay.groups(), key=len)
    incident_id = links[min(biggest)]
    with httpx.Client(base_url=system.url, timeout=10) as client:
        response = client.get(f"/api/incidents/{incident_id}")
        assert response.status_code == 200, response.text
        detail = response.json()
    assert sorted(detail["call_ids"]) == sorted(biggest)
    attached = [t for t in detail["timeline"] if t["kind"] == "call_attached"]
    assert len(attached) == len(biggest) - 1
    assert all(t["detail"].startswith("call within") for t in attached)
