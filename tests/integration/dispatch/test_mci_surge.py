"""A crowd crush on the real system (broker, dispatch worker, console, SQLite).

Twelve crowd calls from within 300 m of the Itaewon alley over a few minutes (repeat callers,
50-300 m location error, falls/breathing/crowd reported as ems/cardiac_arrest/rescue/other)
end up in one mass-casualty incident with a level >= 2 proposal and a reason on every link; a
fire and a traffic collision 150 m away stay their own incidents; replaying every call changes
nothing; then the MCI's commands: START triage, staging, patient distribution over the ERs by
ETA on the road network (no ER above its share), and a supervisor's level confirmation that
sends ambulances.
"""

from __future__ import annotations

import math
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from gt_testing import wait_until

from dispatch.cells import cell_of
from ops.up import LocalSystem

pytestmark = pytest.mark.integration

ALLEY = (37.5345, 126.9945)  # 이태원동, the alley by the Hamilton hotel
CROWD_TYPES = ("ems", "cardiac_arrest", "rescue", "other")
TEXTS = ("사람들이 쓰러졌어요", "숨을 못 쉬어요", "사람이 너무 많아요 깔렸어요", "3명 쓰러짐")
SUPERVISOR = "park.supervisor"


def offset(origin: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    lat = origin[0] + north_m / 111_320
    return lat, origin[1] + east_m / (111_320 * math.cos(math.radians(origin[0])))


def crowd_calls(run: str, start: datetime) -> list[dict[str, Any]]:
    rng = random.Random(18)
    calls = []
    for i in range(12):
        angle, radius = rng.uniform(0, 2 * math.pi), rng.uniform(0, 250)
        lat, lon = offset(ALLEY, radius * math.sin(angle), radius * math.cos(angle))
        caller = f"010-5{i % 10:03d}-{run[:4]}"  # calls 10 and 11 repeat callers 0 and 1
        calls.append(
            {
                "id": f"crowd-{run}-{i}",
                "lat": lat,
                "lon": lon,
                "type": CROWD_TYPES[i % 4],
                "caller": caller,
                "description": TEXTS[i % 4],
                "location_uncertainty_m": rng.uniform(50, 300),
                "location_source": "network",
                "received_at": (start + timedelta(seconds=25 * i)).isoformat(),
            }
        )
    return calls


def ordinary_calls(run: str, start: datetime) -> list[dict[str, Any]]:
    fire_at = offset(ALLEY, 150, 0)
    crash_at = offset(ALLEY, 0, -150)
    at = (start + timedelta(seconds=100)).isoformat()
    return [
        {"id": f"fire-{run}", "lat": fire_at[0], "lon": fire_at[1], "type": "building_fire",
         "description": "건물에서 연기", "received_at": at},
        {"id": f"crash-{run}", "lat": crash_at[0], "lon": crash_at[1],
         "type": "traffic_collision", "description": "차량 충돌", "received_at": at},
    ]  # fmt: skip


def post(client: httpx.Client, body: dict[str, Any]) -> None:
    r = client.post("/api/calls", json=body)
    assert r.status_code == 202, r.text


def incident_of(client: httpx.Client, call_id: str) -> str | None:
    r = client.get(f"/api/calls/{call_id}")
    return r.json()["incident_id"] if r.status_code == 200 else None


def stored(client: httpx.Client, call_ids: list[str]) -> dict[str, str] | None:
    found = {c: incident_of(client, c) for c in call_ids}
    return None if None in found.values() else {k: v for k, v in found.items() if v}


def command(client: httpx.Client, path: str, body: dict[str, Any], user: str) -> dict[str, Any]:
    r = client.post(path, json=body, headers={"X-Goldentime-User": user})
    assert r.status_code == 202, r.text
    command_id = r.json()["command_id"]
    result = wait_until(
        lambda: (x := client.get(f"/api/commands/{command_id}")).status_code == 200 and x.json(),
        timeout_s=20,
    )
    assert result, f"command {command_id} not applied"
    return dict(result)


def detail(client: httpx.Client, incident_id: str) -> dict[str, Any]:
    r = client.get(f"/api/incidents/{incident_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def mci_incident(client: httpx.Client, crowd: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The crowd's MCI incident (its detail) once every crowd call is in it."""

    def settled() -> tuple[dict[str, Any], dict[str, str]] | None:
        links = stored(client, crowd)
        if links is None:
            return None
        for incident_id in set(links.values()):
            body = detail(client, incident_id)
            if body["mci"] and body["mci"]["proposed_level"] >= 2:
                return body, links
        return None

    found: tuple[dict[str, Any], dict[str, str]] | None = wait_until(settled, timeout_s=30)
    assert found, "no MCI with a level >= 2 proposal"
    return found


def test_crowd_crush_one_mci_ordinary_calls_apart_replay_changes_nothing_and_commands(
    system: LocalSystem,
) -> None:
    run = uuid.uuid4().hex[:8]
    start = datetime.now(UTC) - timedelta(minutes=6)
    crowd = crowd_calls(run, start)
    ordinary = ordinary_calls(run, start)
    with httpx.Client(base_url=system.url, timeout=15) as client:
        for body in crowd[:5] + ordinary + crowd[5:]:
            post(client, body)
        crowd_ids = [c["id"] for c in crowd]
        mci, links = mci_incident(client, crowd_ids)

        # At most two incidents in the area, one MCI holding nearly all; every link says why.
        in_area = {links[c] for c in crowd_ids}
        assert len(in_area) <= 2, in_area
        holding = [c for c in crowd_ids if links[c] == mci["id"]]
        assert len(holding) >= 10, links
        reasons = {c["id"]: c["link_reason"] for c in mci["calls"]}
        assert all(reasons[c] for c in holding)
        assert sum("surge:" in reasons[c] for c in holding) >= 8, reasons
        state = mci["mci"]
        assert state["proposed_level"] >= 2 and "대응" in state["proposed_reason"]
        # the station area by road: 이태원119안전센터 is first-due, its 소방서 the jurisdiction
        assert "관할 용산소방서 (first-due 이태원119안전센터" in state["proposed_reason"], state
        assert "by road" in state["proposed_reason"]
        assert state["casualty_estimate"] >= 10 and state["calls"] == len(mci["call_ids"])
        kinds = [t["kind"] for t in mci["timeline"]]
        assert "mci_declared" in kinds and "level_proposed" in kinds

        # The board's banner.
        surges = client.get("/api/surges").json()["surges"]
        banner = next(s for s in surges if s["incident_id"] == mci["id"])
        assert banner["calls_in_window"] >= 5 and "calls in 10 min" in banner["banner"]

        # Ordinary traffic 150 m away keeps the ordinary rules.
        others = stored(client, [o["id"] for o in ordinary])
        assert others is not None and len(set(others.values())) == 2
        for incident_id in others.values():
            body = detail(client, incident_id)
            assert incident_id not in in_area and body["mci"] is None
            assert body["status"] == "open" and body["merged_into"] is None

        # Replaying every call changes nothing (at-least-once delivery).
        before = detail(client, mci["id"])
        for body in crowd + ordinary:
            post(client, body)
        # a fire call after the replays in each of their cells: stored means the replays were
        sentinels = []
        for cell in sorted({cell_of(b["lat"], b["lon"]) for b in crowd + ordinary}):
            row, col = (int(x) for x in cell.split(":"))
            sentinel = f"sentinel-{run}-{row}-{col}"
            post(client, {"id": sentinel, "lat": (row + 0.5) * 0.005,
                          "lon": (col + 0.5) * 0.00625, "type": "vehicle_fire"})  # fmt: skip
            sentinels.append(sentinel)
        assert wait_until(lambda: stored(client, sentinels), timeout_s=30)
        after = detail(client, mci["id"])
        for key in ("revision", "call_ids", "status", "mci"):
            assert after[key] == before[key], key
        assert stored(client, crowd_ids) == links

        # The scene: START counts, staging point, patients over the ERs, level confirmed.
        path = f"/api/incidents/{mci['id']}/mci"
        triage = {"red": 6, "yellow": 9, "green": 12, "black": 1}
        assert command(client, f"{path}/triage", triage, "kim.dispatcher")["ok"]
        staging = offset(ALLEY, -120, 40)
        body = {"lat": staging[0], "lon": staging[1]}
        assert command(client, f"{path}/staging", body, "kim.dispatcher")["ok"]
        shared = command(client, f"{path}/distribute", {}, "kim.dispatcher")
        assert shared["ok"], shared
        confirmed = command(client, f"{path}/level", {"level": 2}, SUPERVISOR)
        assert confirmed["ok"], confirmed

        final = detail(client, mci["id"])
        state = final["mci"]
        assert state["triage"] == triage
        assert state["staging"] == {
            "lat": pytest.approx(staging[0]),
            "lon": pytest.approx(staging[1]),
        }
        assert state["confirmed_level"] == 2 and state["confirmed_by"] == SUPERVISOR
        patients = state["patients"]
        assert len(patients) == 27  # red, yellow, green; black is not transported
        assert [p["triage"] for p in patients[:6]] == ["red"] * 6, patients
        assert all(p["reason"] and p["eta_s"] > 0 for p in patients)
        loads = {e["er_id"]: e["patients"] for e in state["er_load"]}
        assert len(loads) > 3 and max(loads.values()) <= 0.4 * len(patients), loads
        kinds = [t["kind"] for t in final["timeline"]]
        assert kinds.count("patient_assigned") == 27
        assert {"triage", "staging", "level_confirmed"} <= set(kinds)
        ambulances = [u for u in final["units"] if u["kind"] == "ambulance"]
        assert ambulances and "units_dispatched" in kinds

        # The ambulances sent drive to the staging point, not to the alley.
        def routed_to_staging() -> list[dict[str, Any]] | None:
            units = [u for u in detail(client, mci["id"])["units"] if u["kind"] == "ambulance"]
            ends = [(u.get("route") or {}).get("destination") or {} for u in units]
            done = units and all(e.get("kind") == "staging" for e in ends)
            return ends if done else None

        ends = wait_until(routed_to_staging, timeout_s=30)
        assert ends, detail(client, mci["id"])["units"]
        assert all(
            (e["lat"], e["lon"]) == (pytest.approx(staging[0]), pytest.approx(staging[1]))
            and e["label"] == "집결지 / staging point"
            for e in ends
        )

        # Distributing again with nothing new to place is refused, with the reason.
        again = command(client, f"{path}/distribute", {}, "kim.dispatcher")
        assert not again["ok"] and "no triaged patient left" in again["reason"]
