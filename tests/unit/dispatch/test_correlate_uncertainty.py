"""Correlation and the caller's location uncertainty: a wide circle is no reason to merge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.catalog import load_catalog
from dispatch.correlate import OpenIncident, Signal, decide
from goldentime.contracts import IncidentStatus, IncidentType

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
CATALOG = load_catalog()
FIRE = IncidentType.BUILDING_FIRE
NEAR = 37.5663 + 80 / 111_195.0  # 80 m north of the incident


def call(uncertainty_m: float | None) -> Signal:
    payload = {} if uncertainty_m is None else {"location_uncertainty_m": uncertainty_m}
    return Signal("c-2", "call", T0 + timedelta(seconds=60), NEAR, 126.9779, FIRE, payload=payload)


def open_fire() -> OpenIncident:
    return OpenIncident("INC-A", FIRE, IncidentStatus.OPEN, 37.5663, 126.9779, T0, T0)


def test_a_precise_call_nearby_joins() -> None:
    assert decide(call(None), [open_fire()], CATALOG).incident_id == "INC-A"
    assert decide(call(30.0), [open_fire()], CATALOG).incident_id == "INC-A"


def test_a_call_known_only_to_2_km_does_not_join_by_distance() -> None:
    decision = decide(call(2000.0), [open_fire()], CATALOG)
    assert decision.incident_id is None
    assert "±2000 m too uncertain" in decision.reason
