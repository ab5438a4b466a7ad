"""The calls of a crowd (a crowd crush) and of ordinary calls near it, from a scenario's spec.

Deterministic (seeded), one draw order:

- **times**: ``calls`` calls over ``minutes`` from ``start_min`` at a rate rising linearly from
  ``rate_start`` to ``rate_end`` (relative): sorted uniforms through the inverse of that
  distribution, so the count is exact and the calls come faster as the night goes on;
- **callers**: a share ``duplicate_share`` of the calls (exactly rounded) are callers calling
  again: same number, same place as their first call (a new position fix), same report type;
  the others are new callers (010 numbers), standing uniformly within ``radius_m`` of the
  centre;
- **position given**: the caller's place moved ``error_m`` (uniform in [low, high]) in a
  uniform direction, with a location circle (``location_uncertainty_m``) of that error times
  ``uncertainty_factor`` (uniform): the circle holds the caller, as a carrier's fix does;
- **what they report**: a `Report` by weight, one of its descriptions.

`CrowdCall.call_body` is the body the HTTP intake takes (the demo posts it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from goldentime.contracts import IncidentType
from goldentime.geo import destination
from simulation.scenario import CrowdSpec, NearbyCall


@dataclass(frozen=True, slots=True)
class CrowdCall:
    """One call of a crowd or near it, with what the intake gets and the caller's true place."""

    call_id: str
    at_s: float  # scenario seconds
    lat: float  # the position the call gives
    lon: float
    type: IncidentType
    uncertainty_m: float | None
    caller: str | None
    description: str
    crowd: bool  # False: an ordinary call near the crowd (must not join the MCI)
    repeat: bool = False  # a caller calling again
    true_lat: float = 0.0
    true_lon: float = 0.0

    def call_body(self, *, run_id: str, source: str = "demo") -> dict[str, Any]:
        """The intake API's call body (``received_at`` is added by whoever posts it)."""
        body: dict[str, Any] = {
            "id": f"{run_id}-{self.call_id}",
            "lat": self.lat,
            "lon": self.lon,
            "type": self.type.value,
            "description": self.description,
            "source": source,
        }
        if self.caller is not None:
            body["caller"] = self.caller
        if self.uncertainty_m is not None:
            body["location_uncertainty_m"] = self.uncertainty_m
            body["location_source"] = "network"
        return body


def offset(lat: float, lon: float, *, bearing_rad: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` from (lat, lon) in direction ``bearing_rad`` (0 = north)."""
    to_lat, to_lon = destination(lat, lon, bearing_rad=bearing_rad, distance_m=metres)
    return round(to_lat, 7), round(to_lon, 7)


def rising_times(rng: np.random.Generator, spec: CrowdSpec) -> list[float]:
    """``spec.calls`` scenario seconds, sorted, at a rate rising linearly over the window."""
    a, b = spec.rate_start, spec.rate_end
    u = np.sort(rng.uniform(size=spec.calls))
    # CDF of the density a + (b - a) x on [0, 1], normalised: (a x + (b - a) x^2 / 2) / mean
    mean = (a + b) / 2.0
    if math.isclose(a, b):
        x = u
    else:
        k = (b - a) / 2.0
        x = (-a + np.sqrt(a * a + 4.0 * k * u * mean)) / (2.0 * k)
    start, end = spec.window_s
    return [float(start + (end - start) * min(1.0, max(0.0, v))) for v in x]


def crowd_calls(spec: CrowdSpec, *, seed: int) -> list[CrowdCall]:
    """The crowd's calls in time order (see the module doc)."""
    rng = np.random.default_rng([seed, 18])
    times = rising_times(rng, spec)
    repeats = round(spec.duplicate_share * spec.calls)
    # the first call is always a new caller; repeats are drawn among the later ones
    repeat_at = (
        set(
            int(i) + 1
            for i in rng.choice(spec.calls - 1, size=min(repeats, spec.calls - 1), replace=False)
        )
        if spec.calls > 1
        else set()
    )
    weights = np.array([r.weight for r in spec.reports], dtype=float)
    weights /= weights.sum()
    callers: list[tuple[str, float, float, int]] = []  # number, true lat, lon, report index
    out: list[CrowdCall] = []
    for n, at in enumerate(times):
        repeat = n in repeat_at and bool(callers)
        if repeat:
            number, lat, lon, which = callers[int(rng.integers(len(callers)))]
        else:
            number = f"010-{int(rng.integers(2000, 9999))}-{int(rng.integers(1000, 9999))}"
            lat, lon = offset(
                spec.lat,
                spec.lon,
                bearing_rad=float(rng.uniform(0, 2 * math.pi)),
                metres=spec.radius_m * math.sqrt(float(rng.uniform())),
            )
            which = int(rng.choice(len(spec.reports), p=weights))
            callers.append((number, lat, lon, which))
        report = spec.reports[which]
        error = float(rng.uniform(*spec.error_m))
        given = offset(lat, lon, bearing_rad=float(rng.uniform(0, 2 * math.pi)), metres=error)
        circle = max(1.0, round(error * float(rng.uniform(*spec.uncertainty_factor))))
        text = report.descriptions[int(rng.integers(len(report.descriptions)))]
        if repeat:
            text = f"다시 전화: {text} (calling again)"
        out.append(
            CrowdCall(
                call_id=f"crowd-{n:03d}",
                at_s=at,
                lat=given[0],
                lon=given[1],
                type=report.type,
                uncertainty_m=circle,
                caller=number,
                description=text,
                crowd=True,
                repeat=repeat,
                true_lat=lat,
                true_lon=lon,
            )
        )
    return out


def nearby_calls(spec: CrowdSpec, nearby: tuple[NearbyCall, ...]) -> list[CrowdCall]:
    """The ordinary calls near the crowd (exact positions, as a caller at a fire gives)."""
    out = []
    for n, item in enumerate(nearby):
        lat, lon = offset(
            spec.lat, spec.lon, bearing_rad=math.radians(item.bearing_deg), metres=item.distance_m
        )
        out.append(
            CrowdCall(
                call_id=f"nearby-{n:02d}",
                at_s=item.at_min * 60.0,
                lat=lat,
                lon=lon,
                type=item.type,
                uncertainty_m=None,
                caller=None,
                description=item.description,
                crowd=False,
                true_lat=lat,
                true_lon=lon,
            )
        )
    return out
