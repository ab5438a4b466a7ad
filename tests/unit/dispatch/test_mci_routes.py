"""An MCI's ambulances drive to its staging point (집결지), on the configured (Seoul) network.

The supervisor's level confirmation sends ambulances; their routes (``units.route``, what the
crew view and the demo crews drive) end at the staging point when one is set, at the incident
otherwise; setting or moving the staging point re-plans the routes of the ambulances still on
their way; units of other kinds keep driving to the incident. ETAs for the choice of
ambulances come from an injected seam (straight line at 30 km/h): the routes are real.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dispatch.cells import distance_m
from dispatch.commands import apply_command
from dispatch.context import road_network
from dispatch.incident_store import CallRow, IncidentRow, UnitRow
from dispatch.mci_commands import MciServices
from dispatch.mci_store import MciRow
from dispatch.reroute import sync_routes
from goldentime.contracts.dispatch import Command, TriageCounts
from goldentime.db import create_schema, make_engine, session_factory
from goldentime.settings import load_settings
from routing import RoadNetwork
from routing.values import UnitPosition

NOW = datetime(2026, 10, 29, 13, 30, tzinfo=UTC)
SCENE = (37.5345, 126.9945)  # 이태원동, the alley by the Hamilton hotel
STAGING = (37.5346, 126.9900)  # on 이태원로, some 400 m west of the alley
MOVED = (37.5340, 126.9870)
SPEED = 30 / 3.6


@pytest.fixture(scope="module")
def network() -> RoadNetwork:
    return road_network(load_settings())


def unit_etas(
    at: tuple[float, float], units: Sequence[UnitPosition]
) -> list[tuple[str, float | None]]:
    ranked = sorted((distance_m(at[0], at[1], u.lat, u.lon) / SPEED, u.unit_id) for u in units)
    return [(unit_id, eta) for eta, unit_id in ranked]


SERVICES = MciServices(
    ers=[], er_etas=lambda _o, points: [None for _ in points], unit_etas=unit_etas
)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    factory = session_factory(engine)
    with factory.begin() as session:
        session.add(
            IncidentRow(
                id="INC-MCI", type="rescue", status="open", lat=SCENE[0], lon=SCENE[1],
                created_at=NOW, updated_at=NOW, last_activity_at=NOW, cell="c",
            )
        )  # fmt: skip
        session.add(
            CallRow(
                id="call-1", incident_id="INC-MCI", received_at=NOW, lat=SCENE[0], lon=SCENE[1],
                type="rescue", source="api", link_reason="new", payload={},
            )
        )  # fmt: skip
        session.flush()
        session.add(
            MciRow(
                incident_id="INC-MCI", lat=SCENE[0], lon=SCENE[1], radius_m=200.0,
                calls_in_window=12, window_s=600.0, place="이태원동", first_at=NOW, last_at=NOW,
                calls=12, casualty_estimate=3, casualty_reason="", proposed_level=2,
                proposed_reason="대응 2단계", proposed_at=NOW, red=0, yellow=0, green=0,
                black=0, created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
        homes = {  # 용산 stations' side of the scene, 1-3 km away
            "AMB-1": (37.5440, 126.9860),
            "AMB-2": (37.5290, 126.9700),
            "AMB-3": (37.5250, 127.0050),
            "AMB-4": (37.5480, 127.0100),
            "AMB-5": (37.5500, 126.9700),
            "AMB-6": (37.5200, 126.9800),
        }
        for unit_id, (lat, lon) in homes.items():
            session.add(_unit(unit_id, "ambulance", lat, lon))
        session.add(_unit("ENG-1", "engine", 37.5440, 126.9860))
    return factory


def _unit(unit_id: str, kind: str, lat: float, lon: float) -> UnitRow:
    return UnitRow(
        id=unit_id, station_id="S", station_name="용산", name=unit_id, kind=kind,
        status="available", lat=lat, lon=lon, home_lat=lat, home_lon=lon, updated_at=NOW,
    )  # fmt: skip


def apply(sessions: sessionmaker[Session], command_id: str, action: str, **fields: Any) -> Any:
    command = Command(
        id=command_id, at=NOW + timedelta(minutes=5), actor="park.supervisor", action=action,
        incident_id="INC-MCI", **fields,
    )  # fmt: skip
    with sessions.begin() as session:
        return apply_command(session, command, now=command.at, mci=SERVICES)


def routes(
    sessions: sessionmaker[Session], network: RoadNetwork, unit_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """Plan what the worker plans after a command; the units' stored routes by id."""
    with sessions.begin() as session:
        sync_routes(session, network, unit_ids, now=NOW + timedelta(minutes=6))
    with sessions() as session:
        return {u: dict(session.get(UnitRow, u).route or {}) for u in unit_ids}  # type: ignore[union-attr]


def ends_at(route: dict[str, Any], point: tuple[float, float], *, within_m: float) -> bool:
    lon, lat = route["geometry"]["coordinates"][-1]
    return distance_m(lat, lon, point[0], point[1]) <= within_m


def test_confirmed_ambulances_drive_to_the_staging_point_once_set(
    sessions: sessionmaker[Session], network: RoadNetwork
) -> None:
    assert apply(sessions, "t1", "triage", triage=TriageCounts(red=1, yellow=1, green=1)).result.ok
    applied = apply(sessions, "l1", "mci_level", level=2)
    assert applied.result.ok and "to the incident" in applied.result.reason
    sent = sorted(u.id for u in applied.units)
    assert len(sent) == 3 and all(u.startswith("AMB-") for u in sent)
    # No staging point yet: to the incident, and the route says so.
    before = routes(sessions, network, sent)
    for route in before.values():
        assert route["destination"]["kind"] == "incident"
        assert ends_at(route, SCENE, within_m=150)
    assert routes(sessions, network, sent) == before  # idempotent: nothing re-planned

    # The staging point: the ambulances on their way are touched, and re-routed to it.
    applied = apply(sessions, "s1", "staging", lat=STAGING[0], lon=STAGING[1])
    assert applied.result.ok
    assert applied.result.reason == "staging point set; 3 ambulance(s) on their way re-routed to it"
    assert sorted(u.id for u in applied.units) == sent
    staged = routes(sessions, network, sent)
    for unit_id, route in staged.items():
        assert route["destination"] == {
            "kind": "staging",
            "lat": STAGING[0],
            "lon": STAGING[1],
            "label": "집결지 / staging point",
        }
        assert route["reason"] == "to the 집결지 / staging point: set or moved after dispatch"
        assert ends_at(route, STAGING, within_m=150), unit_id
        assert not ends_at(route, SCENE, within_m=300)
    assert routes(sessions, network, sent) == staged

    # Moved: re-planned again, to the new point.
    apply(sessions, "s2", "staging", lat=MOVED[0], lon=MOVED[1])
    for route in routes(sessions, network, sent).values():
        assert (route["destination"]["lat"], route["destination"]["lon"]) == MOVED
        assert ends_at(route, MOVED, within_m=150)


def test_sent_after_the_staging_point_is_set_and_other_kinds_go_to_the_scene(
    sessions: sessionmaker[Session], network: RoadNetwork
) -> None:
    applied = apply(sessions, "s1", "staging", lat=STAGING[0], lon=STAGING[1])
    assert applied.result.reason == "staging point set" and applied.units == []
    assert apply(sessions, "d1", "dispatch", unit_ids=["AMB-1", "ENG-1"]).result.ok
    planned = routes(sessions, network, ["AMB-1", "ENG-1"])
    assert planned["AMB-1"]["destination"]["kind"] == "staging"
    assert planned["AMB-1"]["reason"] == "dispatched to the 집결지 / staging point"
    assert ends_at(planned["AMB-1"], STAGING, within_m=150)
    # a rescue engine works at the scene: its route ends there
    assert planned["ENG-1"]["destination"]["kind"] == "incident"
    assert planned["ENG-1"]["reason"] == "dispatched"
    assert ends_at(planned["ENG-1"], SCENE, within_m=150)
    with sessions.begin() as session:
        row = session.get(MciRow, "INC-MCI")
        assert row is not None
        row.staging_lat, row.staging_lon = MOVED
    # an engine's route is not re-planned when the staging point moves
    assert routes(sessions, network, ["ENG-1"])["ENG-1"] == planned["ENG-1"]
