"""Surge-aware correlation in the intake, on a real SQLite database: crowd calls fold into one
MCI with reasons and a level proposal; ordinary traffic and a dispatcher's split stay apart;
replays and restarts (a new batch reads the database) change nothing."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.catalog import load_catalog
from dispatch.commands import apply_command
from dispatch.correlate import Signal
from dispatch.incident_store import CallRow, IncidentRow, get_timeline
from dispatch.intake import BatchOutcome, ingest
from dispatch.mci_queries import active_surges, mci_of
from dispatch.mci_store import MciRow
from goldentime.contracts import IncidentType
from goldentime.contracts.dispatch import Command, CommandAction
from goldentime.db import create_schema, make_engine, session_factory, writer

T0 = datetime(2026, 10, 29, 13, 15, tzinfo=UTC)
ALLEY = (37.5345, 126.9945)
CATALOG = load_catalog()
CROWD = ("ems", "cardiac_arrest", "rescue", "other")


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    return session_factory(writer(engine))


def near(north_m: float, east_m: float) -> tuple[float, float]:
    lat = ALLEY[0] + north_m / 111_320
    return lat, ALLEY[1] + east_m / (111_320 * math.cos(math.radians(ALLEY[0])))


def call(i: int, *, type_: str | None = None, north: float = 0, east: float = 0) -> Signal:
    angle = i * 2.4
    lat, lon = near(north or 200 * math.sin(angle) * (i % 3) / 2, east or 200 * math.cos(angle))
    return Signal(
        id=f"crowd-{i}",
        kind="call",
        at=T0 + timedelta(seconds=30 * i),
        lat=lat,
        lon=lon,
        type=IncidentType(type_ or CROWD[i % 4]),
        description="사람들이 쓰러졌어요",
        source="api",
        payload={"caller": f"010-{i % 10}", "location_uncertainty_m": 150.0},
    )


def run(sessions: sessionmaker[Session], *signals: Signal) -> BatchOutcome:
    return ingest(
        sessions,
        list(signals),
        now=T0 + timedelta(minutes=20),
        catalog=CATALOG,
        locate_gu=lambda _lat, _lon: "용산구",
    )


def links(sessions: sessionmaker[Session]) -> dict[str, tuple[str, str]]:
    with sessions() as session:
        rows = session.execute(select(CallRow.id, CallRow.incident_id, CallRow.link_reason))
        return {i: (incident, reason) for i, incident, reason in rows.tuples()}


@pytest.mark.parametrize("batched", [True, False])
def test_crowd_calls_fold_into_one_mci_with_reasons_and_a_level(
    sessions: sessionmaker[Session], batched: bool
) -> None:
    calls = [call(i) for i in range(12)]
    if batched:
        run(sessions, *calls)
    else:  # one batch each: every batch reads the state of the ones before from the database
        for c in calls:
            run(sessions, c)
    found = links(sessions)
    incidents = {incident for incident, _ in found.values()}
    assert len(incidents) == 1
    (mci_id,) = incidents
    assert all(reason for _, reason in found.values())
    assert sum(reason.startswith("surge:") for _, reason in found.values()) >= 9
    with sessions() as session:
        mci = mci_of(session, mci_id)
        assert mci is not None and mci["proposed_level"] >= 2 and mci["calls"] == 12
        assert mci["casualty_estimate"] >= 10  # 12 calls from 10 numbers
        kinds = [t.kind for t in get_timeline(session, mci_id)]
        assert kinds.count("mci_declared") == 1 and "level_proposed" in kinds
        surges = active_surges(session, now=T0 + timedelta(minutes=7), place_of=None)
        assert [s["incident_id"] for s in surges] == [mci_id]
        assert surges[0]["banner"].endswith("calls in 10 min at 용산구")
        assert active_surges(session, now=T0 + timedelta(minutes=30), place_of=None) == []
        merged = session.scalars(select(IncidentRow).where(IncidentRow.status == "merged")).all()
        assert all(m.merged_into == mci_id for m in merged)


def test_replay_changes_nothing(sessions: sessionmaker[Session]) -> None:
    calls = [call(i) for i in range(8)]
    for c in calls:
        run(sessions, c)
    before = links(sessions)
    with sessions() as session:
        (mci_id,) = {i for i, _ in before.values()}
        state = mci_of(session, mci_id)
        timeline = len(get_timeline(session, mci_id))
    again = run(sessions, *calls)
    assert sorted(again.duplicates) == sorted(c.id for c in calls) and not again.timeline
    assert links(sessions) == before
    with sessions() as session:
        assert mci_of(session, mci_id) == state
        assert len(get_timeline(session, mci_id)) == timeline


def test_ordinary_traffic_nearby_keeps_the_ordinary_rules(sessions: sessionmaker[Session]) -> None:
    crowd = [call(i) for i in range(8)]
    fire = call(100, type_="building_fire", north=150, east=1)
    crash = call(101, type_="traffic_collision", north=1, east=-150)
    run(sessions, *crowd[:4], fire, crash, *crowd[4:])
    found = links(sessions)
    mci_id = found["crowd-0"][0]
    assert found["crowd-100"][0] not in {mci_id, found["crowd-101"][0]}
    assert found["crowd-101"][0] != mci_id
    assert not found["crowd-100"][1].startswith("surge")
    with sessions() as session:
        assert session.get(MciRow, found["crowd-100"][0]) is None
        for other in ("crowd-100", "crowd-101"):
            row = session.get(IncidentRow, found[other][0])
            assert row is not None and row.status == "open"


def test_a_dispatchers_split_is_not_folded_back(sessions: sessionmaker[Session]) -> None:
    for i in range(6):
        run(sessions, call(i))
    split_call = "crowd-2"
    with sessions.begin() as session:
        applied = apply_command(
            session,
            Command(
                id="split-1",
                at=T0 + timedelta(minutes=4),
                actor="kim.dispatcher",
                action=CommandAction.UNLINK,
                call_id=split_call,
                note="다른 환자",
            ),
            now=T0 + timedelta(minutes=4),
        )
        assert applied.result.ok
    split_incident = links(sessions)[split_call][0]
    for i in range(6, 10):
        run(sessions, call(i))
    found = links(sessions)
    assert found[split_call][0] == split_incident
    assert len({found[f"crowd-{i}"][0] for i in range(10)} - {split_incident}) == 1


def test_an_mci_is_never_folded_into_another(sessions: sessionmaker[Session]) -> None:
    def at(i: int, north: float, seconds: float) -> Signal:
        lat, lon = near(north + 15 * (i % 3), 15 * (i % 4))
        return Signal(
            id=f"two-{north:.0f}-{i}", kind="call", at=T0 + timedelta(seconds=seconds),
            lat=lat, lon=lon, type=IncidentType.EMS, description="여러 명 쓰러졌어요",
            source="api", payload={"caller": f"010-{north:.0f}-{i}"},
        )  # fmt: skip

    north = [at(i, 250, 300 + 20 * i) for i in range(5)]
    south = [at(i, -250, 20 * i) for i in range(5)]  # earlier, but stored after the north ones
    run(sessions, *north)
    run(sessions, *south)
    with sessions() as session:
        mcis = set(session.scalars(select(MciRow.incident_id)))
    assert len(mcis) == 2
    run(sessions, at(9, 0, 500))  # between them, after both: of one area with both
    with sessions() as session:
        rows = session.scalars(select(IncidentRow).where(IncidentRow.id.in_(mcis))).all()
        assert all(r.status == "open" for r in rows)
    assert links(sessions)["two-0-9"][0] in mcis
