"""The MCI commands on a real SQLite database: triage, staging, distribute, mci_level; each
once by command id, refused with a reason when they cannot apply. ETAs come from an injected
seam (straight line at 30 km/h) instead of the road network."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.cells import distance_m
from dispatch.commands import apply_command
from dispatch.incident_store import CallRow, IncidentRow, TimelineRow, UnitRow
from dispatch.mci_commands import MciServices
from dispatch.mci_queries import mci_of
from dispatch.mci_stations import StationAreas
from dispatch.mci_store import MciRow
from dispatch.patients import ErCapacity
from goldentime.contracts.dispatch import Command, TriageCounts
from goldentime.db import create_schema, make_engine, session_factory
from routing.values import UnitPosition

NOW = datetime(2026, 10, 29, 14, 0, tzinfo=UTC)
SCENE = (37.5345, 126.9945)
SPEED = 30 / 3.6


def crow(a: tuple[float, float], b: tuple[float, float]) -> float:
    return distance_m(a[0], a[1], b[0], b[1]) / SPEED


def er_etas(
    origin: tuple[float, float], points: Sequence[tuple[float, float]]
) -> list[float | None]:
    return [crow(origin, p) for p in points]


def unit_etas(
    at: tuple[float, float], units: Sequence[UnitPosition]
) -> list[tuple[str, float | None]]:
    return sorted(((u.unit_id, crow(at, (u.lat, u.lon))) for u in units), key=lambda e: e[1] or 0.0)


ERS = [
    ErCapacity(
        f"ER{i}",
        f"병원{i}",
        SCENE[0] + 0.008 * i,
        SCENE[1] + 0.004 * (i % 3),
        "지역응급의료센터",
        6,
    )
    for i in range(1, 7)
]
# stations S0-S7, 1 km apart going north: S0-S2 of 용산소방서 (first-due S0), S3-S4 of 중부,
# S5-S6 of 종로, S7 of 서초 (straight-line ETAs: no road network in these tests)
JURISDICTIONS = {f"S{i}": name for i, name in enumerate(["용산소방서"] * 3 + ["중부소방서"] * 2
                 + ["종로소방서"] * 2 + ["서초소방서"])}  # fmt: skip
SERVICES = MciServices(
    ers=ERS,
    er_etas=er_etas,
    unit_etas=unit_etas,
    station_areas=StationAreas(None, JURISDICTIONS, neighbours=1),
)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    factory = session_factory(engine)
    with factory.begin() as session:
        for incident_id in ("INC-MCI", "INC-PLAIN"):
            session.add(
                IncidentRow(
                    id=incident_id, type="ems", status="open", lat=SCENE[0], lon=SCENE[1],
                    created_at=NOW, updated_at=NOW, last_activity_at=NOW, cell="c",
                )
            )  # fmt: skip
            session.add(
                CallRow(
                    id=f"call-{incident_id}", incident_id=incident_id, received_at=NOW,
                    lat=SCENE[0], lon=SCENE[1], type="ems", source="api", link_reason="new",
                    payload={},
                )
            )  # fmt: skip
        session.flush()
        session.add(
            MciRow(
                incident_id="INC-MCI", lat=SCENE[0], lon=SCENE[1], radius_m=200.0,
                calls_in_window=20, window_s=600.0, place="용산구", first_at=NOW, last_at=NOW,
                calls=20, casualty_estimate=4, casualty_reason="", proposed_level=2,
                proposed_reason="대응 2단계", proposed_at=NOW, red=0, yellow=0, green=0,
                black=0, created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
        for i in range(8):  # ambulances 1 km apart going north: ~2 min each by crow flight
            session.add(
                UnitRow(
                    id=f"AMB-{i}", station_id=f"S{i}", station_name=f"센터{i}", name=f"구급{i}",
                    kind="ambulance", status="available", lat=SCENE[0] + 0.009 * i,
                    lon=SCENE[1], home_lat=SCENE[0] + 0.009 * i, home_lon=SCENE[1],
                    updated_at=NOW,
                )
            )  # fmt: skip
    return factory


def apply(
    sessions: sessionmaker[Session], command_id: str, action: str, incident: str = "INC-MCI",
    **fields: Any,
) -> tuple[bool, str]:  # fmt: skip
    command = Command(
        id=command_id, at=NOW + timedelta(minutes=5), actor="park.supervisor", action=action,
        incident_id=incident, **fields,
    )  # fmt: skip
    with sessions.begin() as session:
        result = apply_command(session, command, now=command.at, mci=SERVICES).result
    return result.ok, result.reason


def test_triage_staging_distribute_within_shares_and_once(sessions: sessionmaker[Session]) -> None:
    counts = TriageCounts(red=4, yellow=6, green=8, black=2)
    assert apply(sessions, "t1", "triage", triage=counts) == (
        True,
        "red 4, yellow 6, green 8, black 2",
    )
    assert apply(sessions, "s1", "staging", lat=SCENE[0] - 0.001, lon=SCENE[1])[0]
    ok, reason = apply(sessions, "d1", "distribute")
    assert ok and reason.startswith("18 patient(s)")
    assert apply(sessions, "d1", "distribute") == (ok, reason)  # a redelivery: the same answer
    with sessions() as session:
        mci = mci_of(session, "INC-MCI")
        assert mci is not None and len(mci["patients"]) == 18
        assert [p["triage"] for p in mci["patients"][:4]] == ["red"] * 4
        assert max(e["patients"] for e in mci["er_load"]) <= 0.35 * 18
        assert all(e["patients"] <= e["capacity"] for e in mci["er_load"])
        assert mci["staging"] == {"lat": SCENE[0] - 0.001, "lon": SCENE[1]}
        lines = session.scalars(select(TimelineRow).where(TimelineRow.kind == "patient_assigned"))
        assert len(lines.all()) == 18
    # more patients found: only the new ones are placed, numbered on
    assert apply(sessions, "t2", "triage", triage=TriageCounts(red=5, yellow=6, green=8))[0]
    ok, reason = apply(sessions, "d2", "distribute")
    assert ok and reason.startswith("1 patient(s)")
    with sessions() as session:
        mci = mci_of(session, "INC-MCI")
        assert mci is not None and mci["patients"][-1]["patient"] == 19
        assert mci["patients"][-1]["triage"] == "red"
    assert apply(sessions, "d3", "distribute") == (
        False,
        "no triaged patient left to place: enter START counts from the scene",
    )


def test_level_confirmation_sends_ambulances_of_its_scope(sessions: sessionmaker[Session]) -> None:
    assert apply(sessions, "t1", "triage", triage=TriageCounts(red=3, yellow=3))[0]
    ok, reason = apply(sessions, "l1", "mci_level", level=1)
    assert ok and "level 1 confirmed" in reason
    with sessions() as session:
        sent = session.scalars(select(UnitRow).where(UnitRow.incident_id == "INC-MCI")).all()
        # 6 patients; 대응 1단계: the ambulances of 관할 용산소방서's stations (S0-S2)
        assert sorted(u.id for u in sent) == ["AMB-0", "AMB-1", "AMB-2"]
        line = session.scalars(
            select(TimelineRow.detail).where(TimelineRow.kind == "units_dispatched")
        ).one()
        assert line.startswith(
            "대응 1단계 (관할 용산소방서's stations): 3 of 6 ambulances needed sent to the "
            "incident's location (no staging point set yet): 구급0 (0.0 min), 구급1 (2.0 min)"
        )
        mci = mci_of(session, "INC-MCI")
        assert mci is not None and mci["confirmed_level"] == 1
        assert mci["confirmed_by"] == "park.supervisor"
        incident = session.get(IncidentRow, "INC-MCI")
        assert incident is not None and incident.status == "dispatched"
    ok, reason = apply(sessions, "l2", "mci_level", level=2)
    assert ok and "level 2 confirmed" in reason
    with sessions() as session:
        sent = session.scalars(select(UnitRow).where(UnitRow.incident_id == "INC-MCI")).all()
        # 2단계 adds the neighbouring 중부소방서's (S3, S4); 3 more are needed, but never more
        # than half of the city's free ambulances (5 free: 2); 종로's and 서초's stay
        assert sorted(u.id for u in sent) == [f"AMB-{i}" for i in range(5)]
        lines = session.scalars(
            select(TimelineRow.detail).where(TimelineRow.kind == "units_dispatched")
        ).all()
        assert "대응 2단계 (관할 용산소방서 and the neighbouring 중부소방서)" in lines[-1]
    ok, reason = apply(sessions, "l3", "mci_level", level=3)
    with sessions() as session:
        sent = session.scalars(select(UnitRow).where(UnitRow.incident_id == "INC-MCI")).all()
        assert len(sent) == 6  # 3단계, the city: as many as patients


def test_commands_refused_with_their_reason(sessions: sessionmaker[Session]) -> None:
    assert apply(sessions, "x1", "distribute") == (
        False,
        "no triaged patient left to place: enter START counts from the scene",
    )
    ok, reason = apply(sessions, "x2", "triage", "INC-PLAIN", triage=TriageCounts(red=1))
    assert not ok and reason == "INC-PLAIN is not a mass-casualty incident"
    ok, reason = apply(sessions, "x3", "staging", "INC-NONE", lat=37.5, lon=127.0)
    assert not ok and reason == "no incident INC-NONE"
    with pytest.raises(ValueError, match="level"):
        Command(id="x4", at=NOW, actor="a", action="mci_level", incident_id="INC-MCI", level=4)
    with pytest.raises(ValueError, match="mci_level needs level"):
        Command(id="x5", at=NOW, actor="a", action="mci_level", incident_id="INC-MCI")


def test_counts_from_the_scene_raise_the_proposed_level(sessions: sessionmaker[Session]) -> None:
    assert apply(sessions, "t1", "triage", triage=TriageCounts(red=20, yellow=15, green=5))[0]
    with sessions() as session:
        row = session.get(MciRow, "INC-MCI")
        assert row is not None and row.proposed_level == 3 and "대응 3단계" in row.proposed_reason
        lines = session.scalars(select(TimelineRow).where(TimelineRow.kind == "level_proposed"))
        assert [line.actor for line in lines] == ["park.supervisor"]
    assert apply(sessions, "t2", "triage", triage=TriageCounts(red=1))[0]
    with sessions() as session:
        row = session.get(MciRow, "INC-MCI")
        assert row is not None and row.proposed_level == 3  # a proposal never falls by itself
