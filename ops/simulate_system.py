"""``--through-system``: the same calls and crews, replayed through the real running system.

`LocalSystem` (embedded broker, dispatch worker, SQLite database, console) is started on a
fresh data directory. The discrete-event engine then runs on a `ScaledPacer` (a
`ScaledClock` at ``speed``), and everything that happens goes through the public HTTP API,
like `dispatch.crews` does: each call is POSTed to ``/api/calls`` when it comes in; at the
decision time the simulated dispatcher waits for the system's stored incident and
recommendation, then POSTs a dispatch command (``eta``: the system's own recommended units;
``nearest``: the units the station-first rule names) and waits until the worker applied it;
crews POST every status change (and AVL positions of move-ups). Scenario time keeps running
while the system answers, so its latency shows up in the golden-time figures: at speed 600
one wall second is ten scenario minutes.

Measured per run (wall seconds): call -> incident stored, call -> recommendation stored,
dispatch command -> applied, and the scenario delay of each dispatch beyond its due time.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from dispatch.intake import incident_id_for
from goldentime.clock import ScaledClock
from goldentime.settings import load_settings
from ops.up import LocalSystem
from simulation.calls import SimCall, generate_calls
from simulation.engine import START, Progress, Simulation
from simulation.errors import SimulationError
from simulation.policies import Assignment, IdleUnit, NearestStationPolicy, parse_policies
from simulation.run import SimulationReport, demand_for
from simulation.world import World

DISPATCHER = {"X-Goldentime-User": "sim-dispatcher"}
CREW = {"X-Goldentime-User": "sim-crew"}
WAIT_S = 20.0  # wall seconds to wait for the system's incident, recommendation or result
POLL_S = 0.02


class ScaledPacer:
    """Sleeps until an event's scenario time on a `ScaledClock`."""

    def __init__(self, clock: ScaledClock, *, sleep: Callable[[float], None] = time.sleep):
        self.clock, self._sleep = clock, sleep

    def wait_until(self, t: float) -> None:
        ahead = t - self.clock.monotonic()
        if ahead > 0:
            self._sleep(self.clock.real_seconds(ahead))

    def now(self, t: float) -> float:
        return max(t, self.clock.monotonic())


@dataclass
class SystemStats:
    """Wall-clock latencies of the running system, and what went wrong."""

    posted_at: dict[str, float] = field(default_factory=dict)
    intake_s: list[float] = field(default_factory=list)
    recommendation_s: list[float] = field(default_factory=list)
    command_s: list[float] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    unlinked: int = 0
    http_errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def stat(values: list[float]) -> dict[str, float | int | None]:
            if not values:
                return {"n": 0, "p50": None, "p95": None}
            return {
                "n": len(values),
                "p50": round(float(np.percentile(values, 50)), 3),
                "p95": round(float(np.percentile(values, 95)), 3),
            }

        return {
            "call_to_incident_wall_s": stat(self.intake_s),
            "call_to_recommendation_wall_s": stat(self.recommendation_s),
            "dispatch_command_wall_s": stat(self.command_s),
            "refused_commands": len(self.refused),
            "refusals": self.refused[:5],
            "calls_unlinked_after_correlation": self.unlinked,
            "http_errors": self.http_errors[:5],
        }


class HttpSystem:
    """The simulated dispatcher and crews, acting only through the console's HTTP API."""

    def __init__(self, client: httpx.Client, clock: ScaledClock, stats: SystemStats) -> None:
        self.client, self.clock, self.stats = client, clock, stats
        self.incident_of: dict[str, str] = {}

    def _post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        for attempt in range(5):
            try:
                response = self.client.post(path, json=body, headers=headers)
            except httpx.HTTPError as err:
                self.stats.http_errors.append(f"{path}: {err}")
                time.sleep(0.2 * (attempt + 1))
                continue
            if response.status_code == 202:
                result: dict[str, Any] = response.json()
                return result
            if response.status_code != 503:
                raise SimulationError(f"{path} -> {response.status_code}: {response.text[:200]}")
            time.sleep(0.2 * (attempt + 1))
        raise SimulationError(f"{path}: the console did not take the request after 5 tries")

    def _poll(self, fetch: Callable[[], Any], what: str) -> Any:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            found = fetch()
            if found:
                return found
            time.sleep(POLL_S)
        raise SimulationError(f"the system gave no {what} within {WAIT_S:.0f} s")

    def _get(self, path: str) -> Any:
        response = self.client.get(path)
        return response.json() if response.status_code == 200 else None

    # --- observer -------------------------------------------------------------------------
    def on_call(self, call: SimCall, t: float) -> None:
        self.stats.posted_at[call.call_id] = time.monotonic()
        self._post(
            "/api/calls",
            {
                "id": call.call_id,
                "lat": call.lat,
                "lon": call.lon,
                "type": call.type.value,
                "source": "simulation",
                "description": f"simulation {call.call_id}",
            },
            {},
        )

    def on_unit(self, unit_id: str, status: str, t: float, *, lat: float, lon: float) -> None:
        if status == "dispatched":
            return  # the dispatch command already set it
        if status == "position":
            self._post(f"/api/units/{unit_id}/position", {"lat": lat, "lon": lon}, CREW)
        else:
            body = {"status": status, "lat": lat, "lon": lon}
            self._post(f"/api/units/{unit_id}/status", body, CREW)

    # --- dispatcher -----------------------------------------------------------------------
    def incident(self, call: SimCall) -> str:
        found = self.incident_of.get(call.call_id)
        if found:
            return found
        link = self._poll(lambda: self._get(f"/api/calls/{call.call_id}"), "stored call")
        self.stats.intake_s.append(time.monotonic() - self.stats.posted_at[call.call_id])
        incident_id: str = link["incident_id"]
        if incident_id != incident_id_for(call.call_id):  # attached to an earlier call's incident
            self.stats.unlinked += 1
            self._post(
                f"/api/calls/{call.call_id}/unlink",
                {"note": "simulation: a separate event"},
                DISPATCHER,
            )
            incident_id = self._poll(
                lambda: (
                    (x := self._get(f"/api/calls/{call.call_id}"))
                    and x["incident_id"] != link["incident_id"]
                    and x["incident_id"]
                ),
                "unlinked incident",
            )
        self.incident_of[call.call_id] = incident_id
        return incident_id

    def recommendation(self, incident_id: str, call: SimCall) -> dict[str, Any]:
        detail = self._poll(
            lambda: (
                (d := self._get(f"/api/incidents/{incident_id}")) and d.get("recommendation") and d
            ),
            "recommendation",
        )
        if call.call_id in self.stats.posted_at:
            self.stats.recommendation_s.append(
                time.monotonic() - self.stats.posted_at.pop(call.call_id)
            )
        rec: dict[str, Any] = detail["recommendation"]
        return rec

    def dispatch(self, incident_id: str, unit_ids: list[str]) -> bool:
        started = time.monotonic()
        accepted = self._post(
            f"/api/incidents/{incident_id}/dispatch", {"unit_ids": unit_ids}, DISPATCHER
        )
        result = self._poll(
            lambda: self._get(f"/api/commands/{accepted['command_id']}"), "command result"
        )
        self.stats.command_s.append(time.monotonic() - started)
        if not result.get("ok"):
            self.stats.refused.append(str(result.get("reason")))
            return False
        return True


class SystemPolicy:
    """Decides through the system: its recommendation (``eta``) or named units (``nearest``)."""

    def __init__(self, name: str, http: HttpSystem, *, local: NearestStationPolicy | None) -> None:
        self.name, self.http, self.local = name, http, local

    def choose(self, call: SimCall, idle: Sequence[IdleUnit], *, now: datetime) -> list[Assignment]:
        incident_id = self.http.incident(call)
        rec = self.http.recommendation(incident_id, call)
        free = {u.unit_id for u in idle}
        if self.local is not None:
            chosen = self.local.choose(call, idle, now=now)
        else:
            chosen = [
                Assignment(u["unit_id"], float(u["eta_s"]))
                for u in rec.get("units", [])
                if u["unit_id"] in free and u.get("eta_s") is not None
            ]
        if chosen and self.http.dispatch(incident_id, [a.unit_id for a in chosen]):
            return chosen
        return []


def simulate_through_system(
    world: World,
    *,
    hours: float,
    seed: int,
    speed: float,
    policies: Sequence[str] = ("eta",),
    calls_per_day: float | None = None,
    progress: Progress | None = None,
    data_dir: Path | None = None,
    settings_overrides: Mapping[str, Any] | None = None,
) -> SimulationReport:
    """Replay the seeded calls through a fresh `LocalSystem` per policy at ``speed``.

    ``settings_overrides``: settings tables of the system beyond its own (e.g. ``routing`` with
    the road ``network`` the world was loaded on, so the system routes on the same roads).
    """
    if not speed > 0:
        raise SimulationError(f"speed must be positive, got {speed}")
    names = parse_policies(policies)
    calls = generate_calls(
        demand_for(world, calls_per_day=calls_per_day),
        world.places,
        hours=hours,
        seed=seed,
        service=world.service,
    )
    report = SimulationReport(
        hours=hours, seed=seed, calls=calls, network=world.network_name, published=world.published
    )
    for name in names:
        with tempfile.TemporaryDirectory(prefix="goldentime-sim-", dir=data_dir) as tmp:
            settings = load_settings(**(settings_overrides or {})).updated(
                data={"dir": Path(tmp)},
                console={"port": 0, "auth": "demo"},
                logging={"level": "warning"},
            )
            lines: list[str] = []
            started = time.perf_counter()
            with LocalSystem(settings, echo=lines.append) as system:
                if progress is not None:
                    progress(
                        f"[{name}] system up at {system.url} "
                        f"({time.perf_counter() - started:.1f} s); replaying at x{speed:g}"
                    )
                stats = SystemStats()
                run_started = time.perf_counter()
                with httpx.Client(base_url=system.url, timeout=10.0) as client:
                    clock = ScaledClock(start=START, speed=speed)
                    http = HttpSystem(client, clock, stats)
                    local = NearestStationPolicy(world) if name == "nearest" else None
                    sim = Simulation(
                        world,
                        calls,
                        SystemPolicy(name, http, local=local),
                        hours=hours,
                        move_up=name == "eta+moveup",
                        pacer=ScaledPacer(clock),
                        observer=http,
                        progress=progress,
                        label=f"{name}/system",
                    )
                    figures = sim.run()
            report.results[name] = {**figures, "system": stats.to_json()}
            report.series[name] = sim.tracker.series(sim.horizon_s)
            report.outcomes[name] = sim.outcomes
            report.wall_s[name] = time.perf_counter() - run_started
    return report
