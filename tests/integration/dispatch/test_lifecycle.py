"""The dispatch lifecycle on the real system: correlate, recommend, dispatch, crews, close."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from gt_testing import wait_until

from ops.up import LocalSystem

pytestmark = pytest.mark.integration

JONGNO_3GA = (37.57040, 126.99180)  # inside the central graph, away from other tests' places


def post_call(client: httpx.Client, lat: float, lon: float, type_: str = "building_fire") -> str:
    call_id = f"lc-{uuid.uuid4().hex[:10]}"
    r = client.post(
        "/api/calls",
        json={
            "id": call_id,
            "lat": lat,
            "lon": lon,
            "type": type_,
            "received_at": datetime.now(UTC).isoformat(),
        },
    )
    assert r.status_code == 202, r.text
    return call_id


def incident_of(client: httpx.Client, call_id: str) -> str | None:
    r = client.get(f"/api/calls/{call_id}")
    return r.json()["incident_id"] if r.status_code == 200 else None


def command(client: httpx.Client, path: str, body: dict[str, Any], user: str) -> dict[str, Any]:
    r = client.post(path, json=body, headers={"X-Goldentime-User": user})
    assert r.status_code == 202, r.text
    command_id = r.json()["command_id"]
    result = wait_until(
        lambda: (x := client.get(f"/api/commands/{command_id}")).status_code == 200 and x.json(),
        timeout_s=10,
    )
    assert result, f"command {command_id} not applied"
    return dict(result)


def test_two_callers_one_incident_recommend_dispatch_and_crew_statuses(
    system: LocalSystem,
) -> None:
    with httpx.Client(base_url=system.url, timeout=10) as client:
        first = post_call(client, *JONGNO_3GA)
        second = post_call(client, JONGNO_3GA[0] + 0.0008, JONGNO_3GA[1])  # ~90 m north
        incident_id = wait_until(lambda: incident_of(client, first), timeout_s=10)
        assert wait_until(lambda: incident_of(client, second) == incident_id, timeout_s=10)
        detail = wait_until(
            lambda: (
                (d := client.get(f"/api/incidents/{incident_id}").json())["recommendation"] and d
            ),
            timeout_s=15,
        )
        assert sorted(detail["call_ids"]) == sorted([first, second])
        links = {c["id"]: c["link_reason"] for c in detail["calls"]}
        assert links[second].startswith("call within") and incident_id in links[second]
        assert detail["gu"] == "종로구"
        rec = detail["recommendation"]
        kinds = sorted(u["kind"] for u in rec["units"])
        assert kinds == ["ambulance", "command", "engine", "engine", "ladder", "rescue"]
        assert all(u["eta_s"] > 0 for u in rec["units"])
        assert rec["units"][0]["route"]["type"] == "LineString"

        result = command(client, f"/api/incidents/{incident_id}/dispatch", {}, "kim.dispatcher")
        assert result["ok"], result
        units = {u["id"]: u for u in client.get("/api/units").json()}
        sent = [u["unit_id"] for u in rec["units"]]
        assert all(units[u]["status"] == "dispatched" for u in sent)
        assert all(units[u]["incident_id"] == incident_id for u in sent)

        again = command(
            client,
            f"/api/incidents/{incident_id}/dispatch",
            {"unit_ids": sent[:1]},
            "kim.dispatcher",
        )
        assert not again["ok"] and "not available" in again["reason"]

        engine = next(u["unit_id"] for u in rec["units"] if u["kind"] == "engine")
        for status in ("en_route", "on_scene"):
            assert command(client, f"/api/units/{engine}/status", {"status": status}, "crew")["ok"]
        bad = command(client, f"/api/units/{engine}/status", {"status": "at_hospital"}, "crew")
        assert not bad["ok"] and "not allowed" in bad["reason"]

        unlinked = command(
            client, f"/api/calls/{second}/unlink", {"note": "다른 건물"}, "kim.dispatcher"
        )
        assert unlinked["ok"]
        new_incident = wait_until(
            lambda: (i := incident_of(client, second)) != incident_id and i, timeout_s=5
        )
        assert new_incident

        assert command(client, f"/api/incidents/{incident_id}/close", {}, "kim.dispatcher")["ok"]
        final = client.get(f"/api/incidents/{incident_id}").json()
        assert final["status"] == "closed"
        for key in ("dispatched_at", "en_route_at", "on_scene_at", "closed_at"):
            assert final[key], key
        kinds_logged = [t["kind"] for t in final["timeline"]]
        for kind in (
            "call_opened",
            "call_attached",
            "units_dispatched",
            "unit_en_route",
            "unit_on_scene",
            "unlinked",
            "closed",
        ):
            assert kind in kinds_logged, kind
        actors = {t["actor"] for t in final["timeline"]}
        assert {"kim.dispatcher", "crew"} <= actors
        units = {u["id"]: u for u in client.get("/api/units").json()}
        assert all(units[u]["status"] == "returning" for u in sent)
        for unit in sent:
            assert command(client, f"/api/units/{unit}/status", {"status": "available"}, "crew")[
                "ok"
            ]
