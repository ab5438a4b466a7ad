"""Simulated dispatcher and crews for the demo, driving the public HTTP API.

In the demo nobody sits at the console, so this plays both roles, clearly marked as such on
every timeline entry (actors ``demo-dispatcher`` and ``demo-crew``): after the call-processing
time it dispatches each open incident's recommended units; crews acknowledge, turn out, drive
their route (posting AVL positions along the road geometry), arrive, work the scene, and
return. Times are scenario seconds, run ``speed`` times faster than real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from routing import RoadNetwork, RoutingError

PROCESSING_S = 60.0  # call taking/processing before dispatch (NFPA 1710: 64 s for 90%)
TURNOUT_S = 60.0  # EMS turnout 60 s, fire 80 s
SCENE_S = 600.0  # working the scene
RETURN_S = 300.0
RETRY_S = 120.0  # an incident still open (units were busy) is dispatched again after this
DISPATCHER = {"X-Goldentime-User": "demo-dispatcher"}
CREW = {"X-Goldentime-User": "demo-crew"}


@dataclass
class Trip:
    unit_id: str
    incident_id: str
    dispatched_at: float  # scenario seconds
    path: list[tuple[float, float]] = field(default_factory=list)  # (lat, lon)
    eta_s: float = 0.0
    phase: str = "dispatched"
    phase_at: float = 0.0
    route_revision: int = 0  # of the route dispatch planned for the unit (0: our own)


class DemoCrews:
    """One tick at a time, so the scenario can run at any speed."""

    def __init__(
        self,
        client: httpx.Client,
        network: RoadNetwork,
        *,
        speed: float,
        echo: Callable[[str], None] = print,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client, self.network, self.speed, self.echo = client, network, speed, echo
        self._monotonic = monotonic
        self._start = monotonic()
        self.trips: dict[str, Trip] = {}
        self.asked: dict[str, float] = {}  # incident id -> when we last asked (scenario s)
        self.closed: set[str] = set()

    def now(self) -> float:
        return (self._monotonic() - self._start) * self.speed

    def _post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        response = self.client.post(path, json=body, headers=headers)
        if response.status_code != 202:
            self.echo(f"demo-crews: {path} -> {response.status_code} {response.text[:200]}")

    def _dispatch_due(self, incidents: list[dict[str, Any]], now: float) -> None:
        wall = datetime.now(UTC)
        for incident in incidents:
            age = (wall - datetime.fromisoformat(incident["created_at"])).total_seconds()
            last = self.asked.get(incident["id"])
            if age * self.speed < PROCESSING_S or (last is not None and now - last < RETRY_S):
                continue
            detail = self.client.get(f"/api/incidents/{incident['id']}").json()
            if not (detail.get("recommendation") or {}).get("units"):
                continue
            self.asked[incident["id"]] = now
            self._post(f"/api/incidents/{incident['id']}/dispatch", {}, DISPATCHER)
            self.echo(f"demo-dispatcher: dispatched recommended units to {incident['id']}")

    def _follow(self, trip: Trip, route: dict[str, Any], now: float) -> None:
        """Drive the route dispatch planned (at dispatch, or a re-route around a closure)."""
        trip.path = [(lat, lon) for lon, lat in route["geometry"]["coordinates"]]
        trip.eta_s = float(route["eta_s"])
        trip.route_revision = int(route.get("revision", 1))
        if trip.phase == "en_route":
            trip.phase_at = now  # the new route starts where the unit is now

    def _start_trip(self, unit: dict[str, Any], now: float) -> None:
        incident = self.client.get(f"/api/incidents/{unit['incident_id']}").json()
        trip = Trip(unit["id"], unit["incident_id"], now, phase_at=now)
        if unit.get("route"):
            self._follow(trip, unit["route"], now)
            self.trips[unit["id"]] = trip
            self._post(f"/api/units/{unit['id']}/acknowledge", {}, CREW)
            return
        try:
            route = self.network.route(
                (unit["lat"], unit["lon"]), (incident["lat"], incident["lon"]), vehicle=unit["kind"]
            )
            trip.path = [(lat, lon) for lon, lat in route.geometry["coordinates"]]
            trip.eta_s = route.eta_s
        except RoutingError as err:
            self.echo(f"demo-crews: no route for {unit['id']}: {err}")
            trip.path, trip.eta_s = [(incident["lat"], incident["lon"])], 300.0
        self.trips[unit["id"]] = trip
        self._post(f"/api/units/{unit['id']}/acknowledge", {}, CREW)

    def _position(self, trip: Trip, progress: float) -> tuple[float, float]:
        if len(trip.path) < 2:
            return trip.path[-1]
        index = min(int(progress * (len(trip.path) - 1)), len(trip.path) - 1)
        return trip.path[index]

    def _advance(self, trip: Trip, now: float) -> None:
        elapsed = now - trip.phase_at
        path = f"/api/units/{trip.unit_id}/status"
        if trip.phase == "dispatched" and elapsed >= TURNOUT_S:
            trip.phase, trip.phase_at = "en_route", now
            self._post(path, {"status": "en_route"}, CREW)
        elif trip.phase == "en_route":
            if elapsed >= trip.eta_s:
                lat, lon = trip.path[-1]
                trip.phase, trip.phase_at = "on_scene", now
                self._post(path, {"status": "on_scene", "lat": lat, "lon": lon}, CREW)
            else:
                lat, lon = self._position(trip, elapsed / max(trip.eta_s, 1.0))
                self._post(f"/api/units/{trip.unit_id}/position", {"lat": lat, "lon": lon}, CREW)
        elif trip.phase == "on_scene" and elapsed >= SCENE_S:
            trip.phase, trip.phase_at = "returning", now
            if trip.incident_id not in self.closed:
                # the incident commander declares the fire out: the dispatcher closes it,
                # which sends every unit still assigned home
                self.closed.add(trip.incident_id)
                self._post(
                    f"/api/incidents/{trip.incident_id}/close",
                    {"note": "demo: fire out"},
                    DISPATCHER,
                )
            self._post(path, {"status": "returning"}, CREW)
        elif trip.phase == "returning" and elapsed >= RETURN_S:
            self._post(path, {"status": "available"}, CREW)
            del self.trips[trip.unit_id]

    def tick(self) -> None:
        now = self.now()
        self._dispatch_due(self.client.get("/api/incidents", params={"status": "open"}).json(), now)
        for unit in self.client.get("/api/units").json():
            if unit["status"] == "dispatched" and unit["id"] not in self.trips:
                self._start_trip(unit, now)
            trip = self.trips.get(unit["id"])
            route = unit.get("route")
            if trip is not None and route and int(route.get("revision", 1)) > trip.route_revision:
                self._follow(trip, route, now)
                self.echo(f"demo-crews: {unit['id']} follows its new route ({route['reason']})")
        for trip in list(self.trips.values()):
            self._advance(trip, now)
        self._close_finished()

    def _close_finished(self) -> None:
        for incident in self.client.get("/api/incidents", params={"status": "on_scene"}).json():
            units = [self.trips.get(u) for u in incident.get("unit_ids", [])]
            if units and all(t is not None and t.phase == "returning" for t in units):
                self._post(
                    f"/api/incidents/{incident['id']}/close", {"note": "demo: fire out"}, DISPATCHER
                )

    def run(self, *, stop: Callable[[], bool], period_s: float = 1.0) -> None:
        while not stop():
            try:
                self.tick()
            except httpx.HTTPError as err:
                self.echo(f"demo-crews: console unreachable ({err}); retrying")
            time.sleep(period_s)
