"""Telephony gateways with wrong clocks, through the real system (broker, worker, console).

Three callers report one fire: one gateway keeps good time, one sends Korean local time marked
as UTC (9 h ahead), one is 5 h behind. All three are taken, all three join one incident (the
wrong clocks neither split it nor reorder it), the incident is dated by the console's receipt
time and is on the live board, flagged with the skew.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from gt_testing import wait_until

from ops.up import LocalSystem

pytestmark = pytest.mark.integration

EULJIRO_3GA = (37.56630, 126.99190)  # inside the central graph, away from other tests' places
STORED_TIMEOUT_S = 60.0  # an upper bound (a crowded machine), not a speed check


def incident_of(client: httpx.Client, call_id: str) -> str | None:
    r = client.get(f"/api/calls/{call_id}")
    return r.json()["incident_id"] if r.status_code == 200 else None


def test_calls_with_wrong_clocks_are_taken_flagged_and_placed_by_receipt(
    system: LocalSystem,
) -> None:
    started = datetime.now(UTC)
    offsets = {"good": timedelta(0), "ahead": timedelta(hours=9), "behind": timedelta(hours=-5)}
    ids = {name: f"skew-{name}-{uuid.uuid4().hex[:8]}" for name in offsets}
    with httpx.Client(base_url=system.url, timeout=10) as client:
        answers = {}
        for n, (name, offset) in enumerate(offsets.items()):
            body = {
                "id": ids[name],
                "lat": EULJIRO_3GA[0] + n * 0.0003,  # ~30 m apart
                "lon": EULJIRO_3GA[1],
                "type": "building_fire",
                "received_at": (datetime.now(UTC) + offset).isoformat(),
                "source": "telephony",
            }
            r = client.post("/api/calls", json=body)
            assert r.status_code == 202, r.text
            answers[name] = r.json()
        assert answers["good"]["clock_skew_s"] is None
        assert answers["ahead"]["clock_skew_s"] == pytest.approx(9 * 3600, abs=60)
        assert answers["behind"]["clock_skew_s"] == pytest.approx(-5 * 3600, abs=60)

        incident_id = wait_until(
            lambda: incident_of(client, ids["good"]), timeout_s=STORED_TIMEOUT_S
        )
        assert incident_id, "the call with a good clock was never stored"
        for name in ("ahead", "behind"):
            linked = wait_until(
                lambda name=name: incident_of(client, ids[name]), timeout_s=STORED_TIMEOUT_S
            )
            assert linked == incident_id, f"the {name} call split the incident"

        detail = client.get(f"/api/incidents/{incident_id}").json()
        assert detail["clock_skew_s"] == pytest.approx(9 * 3600, abs=60)
        created = datetime.fromisoformat(detail["created_at"])
        assert started - timedelta(seconds=5) <= created <= datetime.now(UTC)
        calls = {c["id"]: c for c in detail["calls"]}
        assert [c["id"] for c in detail["calls"]] == [ids["good"], ids["ahead"], ids["behind"]]
        for name in ("ahead", "behind"):
            received = datetime.fromisoformat(calls[ids[name]]["received_at"])
            claimed = datetime.fromisoformat(calls[ids[name]]["claimed_at"])
            assert started - timedelta(seconds=5) <= received <= datetime.now(UTC)
            assert (claimed - received).total_seconds() == pytest.approx(
                calls[ids[name]]["clock_skew_s"], abs=1e-3
            )
        assert calls[ids["good"]]["clock_skew_s"] is None

        board = client.get("/api/incidents").json()  # what the live board loads
        (listed,) = [i for i in board if i["id"] == incident_id]
        assert listed["clock_skew_s"] == pytest.approx(9 * 3600, abs=60)
