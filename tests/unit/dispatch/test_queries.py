"""dispatch.queries, the read interface of the console and the exchange, on SQLite: what each
function returns for a real record (stored by the intake and the commands), and that bulk
reads stay one statement per kind of row whatever the number of rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from dispatch import cell_of, incident_id_for, queries
from dispatch.catalog import load_catalog
from dispatch.cells import cell_of as cells_cell_of
from dispatch.commands import apply_command
from dispatch.correlate import Signal
from dispatch.fleet import Vehicle
from dispatch.incident_store import RecommendationRow, record_heartbeat
from dispatch.intake import incident_id_for as intake_incident_id_for
from dispatch.intake import ingest
from dispatch.mci_store import MciRow
from dispatch.unit_store import seed_units
from goldentime.contracts import IncidentStatus, IncidentType
from goldentime.contracts.dispatch import Command, CommandAction, UnitStatus
from goldentime.db import create_schema, make_engine, session_factory, writer

NOW = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=30)
CATALOG = load_catalog()
FLEET = [
    Vehicle("E1", "S1", "종로119안전센터", "종로펌프1", "engine", 37.571, 126.981),
    Vehicle("A1", "S1", "종로119안전센터", "종로구급1", "ambulance", 37.571, 126.981),
    Vehicle("E2", "S2", "광화문119안전센터", "광화문펌프1", "engine", 37.575, 126.975),
]


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    return engine


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    sessions = session_factory(writer(engine))
    with sessions.begin() as session:
        seed_units(session, FLEET, now=NOW)
    return sessions


def call(
    id_: str, *, lat: float = 37.57, lon: float = 126.98, t: float = 0, **payload: Any
) -> Signal:
    return Signal(
        id=id_,
        kind="call",
        at=NOW + timedelta(seconds=t),
        lat=lat,
        lon=lon,
        type=IncidentType("building_fire"),
        description="연기",
        source="api",
        payload={"caller": "010-1234-5678", **payload},
    )


def store(sessions: sessionmaker[Session], *signals: Signal) -> None:
    ingest(sessions, list(signals), now=LATER, catalog=CATALOG, locate_gu=lambda _a, _o: "종로구")


def command(sessions: sessionmaker[Session], **fields: Any) -> None:
    with sessions.begin() as session:
        apply_command(session, Command(at=LATER, actor="kim", **fields), now=LATER)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SELECT statements run on ``engine`` inside the block."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):
            seen.append(args[2])

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_package_level_names_are_dispatchs_own() -> None:
    assert cell_of is cells_cell_of
    assert incident_id_for is intake_incident_id_for
    assert incident_id_for("c1") == incident_id_for("c1") != incident_id_for("c2")


def test_an_incident_with_its_calls_units_and_timeline(sessions: sessionmaker[Session]) -> None:
    store(sessions, call("c1"), call("c2", t=30, lat=37.5701))
    incident_id = incident_id_for("c1")
    command(
        sessions,
        id="cmd-1",
        action=CommandAction.DISPATCH,
        incident_id=incident_id,
        unit_ids=["E1", "A1"],
    )
    with sessions() as session:
        view = queries.incident_view(session, incident_id)
        assert view is not None
        assert view.record.id == incident_id
        assert view.record.status is IncidentStatus.DISPATCHED
        assert view.record.call_ids == ["c1", "c2"]
        assert [c.id for c in view.calls] == ["c1", "c2"]  # by receipt
        assert view.calls[0].incident_id == incident_id
        assert view.calls[0].caller == "010-1234-5678"
        assert view.calls[1].received_at == NOW + timedelta(seconds=30)
        assert [u.id for u in view.units] == ["A1", "E1"]
        assert {u.status for u in view.units} == {UnitStatus.DISPATCHED}
        assert view.signals == ()
        assert queries.find_incident(session, incident_id) == view.record
        assert queries.find_incident(session, "INC-NONE") is None
        assert queries.incident_view(session, "INC-NONE") is None
        entries = queries.timeline(session, incident_id)
        lines = queries.timeline_lines(session, incident_id)
        assert [e.id for e in entries] == [line.id for line in lines]
        assert [line.seq for line in lines] == sorted(line.seq for line in lines)
        assert lines[-1].kind == "units_dispatched" and lines[-1].actor == "kim"
        listed = queries.list_incidents(session, status=IncidentStatus.DISPATCHED)
        assert [i.id for i in listed] == [incident_id]
        assert queries.list_incidents(session, status=IncidentStatus.CLOSED) == []
        assert sorted(queries.unit_names_on(session, incident_id)) == ["종로구급1", "종로펌프1"]
        assert queries.unit_incident_id(session, "E1") == incident_id
        assert queries.unit_incident_id(session, "E2") is None
        assert queries.unit_incident_id(session, "NOPE") is None


def test_views_are_frozen_values_not_rows(sessions: sessionmaker[Session]) -> None:
    store(sessions, call("c1"))
    with sessions() as session:
        view = queries.incident_view(session, incident_id_for("c1"))
        found = queries.find_call(session, "c1")
    assert view is not None and found is not None
    assert found == view.calls[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.incident_id = "other"  # type: ignore[misc]
    # read after the session closed: plain values, nothing left to load
    assert found.payload["caller"] == "010-1234-5678"


def test_calls_commands_and_what_the_outbox_relay_may_forget(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    store(sessions, call("c1"), call("c2", t=10, lat=37.5701))
    command(sessions, id="cmd-ok", action=CommandAction.CLOSE, incident_id=incident_id_for("c1"))
    command(sessions, id="cmd-no", action=CommandAction.CLOSE, incident_id="INC-NONE")
    with sessions() as session:
        assert queries.find_call(session, "c9") is None
        assert sorted(queries.call_ids_of(session, incident_id_for("c1"))) == ["c1", "c2"]
        ok = queries.command_result(session, "cmd-ok")
        refused = queries.command_result(session, "cmd-no")
        assert queries.command_result(session, "cmd-unknown") is None
    assert ok is not None and ok.ok and ok.applied_at == LATER
    assert refused is not None and not refused.ok and refused.reason
    with engine.connect() as connection:
        assert queries.stored_call_ids(connection, ["c1", "c2", "c3"]) == {"c1", "c2"}
        assert queries.stored_call_ids(connection, []) == set()
        assert queries.stored_command_ids(connection, ["cmd-ok", "c1"]) == {"cmd-ok"}


def test_caller_location_comes_from_the_call_whose_position_the_incident_took(
    sessions: sessionmaker[Session],
) -> None:
    store(
        sessions,
        call("c1", location_uncertainty_m=35.0, location_source="aml"),
        call("c2", t=10, lat=37.5701, location_uncertainty_m=900.0, location_source="cell"),
        call("d1", lat=37.60, lon=127.05),  # no fix given
    )
    one, other = incident_id_for("c1"), incident_id_for("d1")
    with sessions() as session:
        first = queries.find_incident(session, one)
        assert first is not None
        found = queries.caller_locations(
            session, {one: (first.lat, first.lon), other: (37.60, 127.05)}
        )
    assert found == {one: (35.0, "aml")}


def test_unlink_and_merge_as_the_eido_export_reads_them(sessions: sessionmaker[Session]) -> None:
    store(
        sessions,
        call("c1"),
        call("c2", t=10, lat=37.5701),
        call("d1", lat=37.60, lon=127.05),
    )
    old, other = incident_id_for("c1"), incident_id_for("d1")
    command(sessions, id="cmd-unlink", action=CommandAction.UNLINK, call_id="c2")
    command(
        sessions,
        id="cmd-merge",
        action=CommandAction.MERGE,
        incident_id=other,
        into_incident_id=old,
    )
    new = incident_id_for("unlink:cmd-unlink")
    with sessions() as session:
        from_old = queries.unlinks_of(session, old)
        from_new = queries.unlinks_of(session, new)
        assert queries.merged_sources(session, old) == [other]
        assert queries.merged_sources(session, other) == []
        merged = queries.find_incident(session, other)
    assert [(u.command_id, u.call_id, u.other_incident_id, u.actor) for u in from_old] == [
        ("cmd-unlink", "c2", new, "kim")
    ]
    assert [(u.call_id, u.other_incident_id) for u in from_new] == [("c2", old)]
    assert merged is not None and merged.merged_into == old


def test_incident_ids_by_update_for_the_exchange_catch_up(sessions: sessionmaker[Session]) -> None:
    store(sessions, call("c1"), call("d1", lat=37.60, lon=127.05))
    a, b = incident_id_for("c1"), incident_id_for("d1")
    command(sessions, id="cmd-close", action=CommandAction.CLOSE, incident_id=b)
    with sessions() as session:
        assert set(queries.incident_ids_by_update(session, limit=10)) == {a, b}
        assert queries.incident_ids_by_update(session, limit=10, active_only=True) == [a]
        assert queries.incident_ids_by_update(session, limit=10, incident_id=b) == [b]
        assert queries.incident_ids_by_update(session, limit=10, kind="traffic_accident") == []
        assert queries.incident_ids_by_update(session, limit=10, updated_after=LATER) == []
        assert queries.incident_ids_by_update(session, limit=1) == [a]  # least recent first


def test_change_feed_reads(engine: Engine, sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert queries.latest_change_at(session) == NOW  # the fleet's seeding
    store(sessions, call("c1"), call("d1", lat=37.60, lon=127.05))
    a, b = incident_id_for("c1"), incident_id_for("d1")
    command(sessions, id="cmd-1", action=CommandAction.DISPATCH, incident_id=a, unit_ids=["E1"])
    with sessions.begin() as session:
        session.add(
            RecommendationRow(
                incident_id=b,
                incident_revision=1,
                computed_at=LATER + timedelta(seconds=5),
                payload={"units": []},
            )
        )
    with sessions() as session:
        assert queries.latest_change_at(session) == LATER + timedelta(seconds=5)
        heads = queries.incident_heads_since(session, LATER)
        assert set(heads) == {a, b}
        assert heads[a][0] == 2  # the dispatch bumped its revision
        assert queries.recommendations_since(session, LATER) == {b: LATER + timedelta(seconds=5)}
        assert queries.recommendations_since(session, LATER + timedelta(seconds=6)) == {}
        assert set(queries.incident_heads(session, [b, "INC-NONE"])) == {b}
        units = queries.unit_heads_since(session, LATER)
        assert set(units) == {"E1"}
        (unit,) = queries.units_by_id(session, ["E1"])
        assert unit.status is UnitStatus.DISPATCHED and unit.incident_id == a
        incidents = queries.incidents_by_id(session, [a, b])
        assert {i.id: i.unit_ids for i in incidents} == {a: ["E1"], b: []}


def test_bulk_reads_are_one_statement_per_kind_of_row(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    """No per-row queries: reading 1 or 12 incidents or units costs the same statements."""
    store(sessions, *(call(f"c{i}", lat=37.50 + i * 0.01, lon=126.90) for i in range(12)))
    ids = [incident_id_for(f"c{i}") for i in range(12)]
    unit_ids = [v.unit_id for v in FLEET]
    counts: dict[int, tuple[int, int, int]] = {}
    for n in (1, 12):
        with sessions() as session:
            with statements(engine) as incidents:
                assert len(queries.incidents_by_id(session, ids[:n])) == n
            with statements(engine) as units:
                assert len(queries.units_by_id(session, unit_ids[: min(n, 3)])) == min(n, 3)
            with statements(engine) as located:
                queries.caller_locations(session, {i: (0.0, 0.0) for i in ids[:n]})
        counts[n] = (len(incidents), len(units), len(located))
    assert counts[1] == counts[12]
    assert counts[12][0] <= 4  # the incidents, then their calls, signals and units at once


def test_available_units_of_a_class(sessions: sessionmaker[Session]) -> None:
    store(sessions, call("c1"))
    command(
        sessions,
        id="cmd-1",
        action=CommandAction.DISPATCH,
        incident_id=incident_id_for("c1"),
        unit_ids=["E1"],
    )
    with sessions() as session:
        engines = queries.available_units(session, kind="engine")
        everyone = queries.list_units(session)
        dispatched = queries.list_units(session, status=UnitStatus.DISPATCHED)
    assert [(u.id, u.name, u.lat, u.lon) for u in engines] == [
        ("E2", "광화문펌프1", 37.575, 126.975)
    ]
    assert [u.id for u in everyone] == ["E2", "A1", "E1"]  # by station name, then id
    assert [u.id for u in dispatched] == ["E1"]


def test_mci_levels_and_live_workers(sessions: sessionmaker[Session]) -> None:
    store(sessions, call("c1"), call("d1", lat=37.60, lon=127.05))
    a, b = incident_id_for("c1"), incident_id_for("d1")
    with sessions.begin() as session:
        session.add(
            MciRow(
                incident_id=a,
                lat=37.57,
                lon=126.98,
                radius_m=120.0,
                calls_in_window=30,
                window_s=600.0,
                first_at=NOW,
                last_at=NOW,
                proposed_level=2,
                proposed_at=NOW,
                confirmed_level=None,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        record_heartbeat(session, name="w-old", started_at=NOW, now=NOW, partitions=3)
        record_heartbeat(session, name="w-new", started_at=NOW, now=LATER, partitions=2)
    with sessions() as session:
        levels = queries.mci_levels(session, [a, b])
        workers = queries.live_workers(session, now=LATER, max_age_s=10.0)
    assert levels == {a: queries.MciLevel(proposed=2, confirmed=None)}
    assert [(w.name, w.partitions, w.last_seen) for w in workers] == [("w-new", 2, LATER)]
