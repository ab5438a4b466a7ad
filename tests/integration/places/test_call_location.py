"""The caller's location uncertainty through the real intake: console -> broker -> dispatch
worker -> database -> the console's incident JSON, with the incident's place."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from gt_testing import wait_until

from ops.up import LocalSystem

pytestmark = pytest.mark.integration

CITY_HALL = (37.5663, 126.9779)


def incident_of(client: httpx.Client, call_id: str) -> str | None:
    r = client.get(f"/api/calls/{call_id}")
    return r.json()["incident_id"] if r.status_code == 200 else None


def test_network_location_arrives_in_the_api_with_the_place(system: LocalSystem) -> None:
    body = {
        "id": f"loc-{uuid.uuid4().hex[:12]}",
        "received_at": datetime.now(UTC).isoformat(),
        "lat": CITY_HALL[0],
        "lon": CITY_HALL[1],
        "type": "cardiac_arrest",
        "location_uncertainty_m": 2000,
        "location_source": "network",
    }
    with httpx.Client(base_url=system.url, timeout=30) as client:
        assert client.post("/api/calls", json=body).status_code == 202
        incident_id = wait_until(lambda: incident_of(client, body["id"]), timeout_s=15)
        assert incident_id, "call not stored"
        detail = client.get(f"/api/incidents/{incident_id}").json()
        listed = {i["id"]: i for i in client.get("/api/incidents").json()}[incident_id]
        found = client.get("/api/places", params={"q": "서울 시청"}).json()
    (call,) = [c for c in detail["calls"] if c["id"] == body["id"]]
    assert (call["location_uncertainty_m"], call["location_source"]) == (2000.0, "network")
    for incident in (detail, listed):
        assert incident["location_uncertainty_m"] == 2000.0
        assert incident["location_source"] == "network"
        assert incident["place"]["gu"] == "중구"
        assert incident["place"]["intersection"] == "서울시청"
    assert found[0]["name"] == "서울시청"
