from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dispatch.catalog import load_catalog
from dispatch.correlate import Signal
from dispatch.incident_store import get_timeline, list_incidents
from dispatch.intake import incident_id_for, ingest
from goldentime.contracts import IncidentType
from goldentime.db import create_schema, make_engine, session_factory, writer
from goldentime.errors import StoreError

NOW = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
CATALOG = load_catalog()


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    return session_factory(writer(engine))


def sig(
    id_: str,
    *,
    lat: float = 37.57,
    lon: float = 126.98,
    t: float = 0,
    type_: str = "building_fire",
    kind: str = "call",
) -> Signal:
    return Signal(
        id=id_,
        kind=kind,
        at=NOW + timedelta(seconds=t),
        lat=lat,
        lon=lon,
        type=IncidentType(type_),
        description="연기",
        source="api",
    )


def run(sessions: sessionmaker[Session], *signals: Signal):  # type: ignore[no-untyped-def]
    return ingest(
        sessions,
        list(signals),
        now=NOW + timedelta(minutes=30),
        catalog=CATALOG,
        locate_gu=lambda lat, lon: "종로구",
    )


def test_first_call_opens_incident_with_gu_priority_and_timeline(sessions) -> None:  # type: ignore[no-untyped-def]
    out = run(sessions, sig("c-1"))
    assert out.new_incident_ids == [incident_id_for("c-1")]
    (incident,) = out.incidents
    assert incident.call_ids == ["c-1"] and incident.gu == "종로구" and incident.priority == 1
    assert [t.kind for t in out.timeline] == ["call_opened"]


def test_second_caller_attaches_in_same_and_later_batches(sessions) -> None:  # type: ignore[no-untyped-def]
    first = run(sessions, sig("c-1"), sig("c-2", lat=37.5703, t=60))
    assert len(first.new_incident_ids) == 1
    assert first.links["c-1"] == first.links["c-2"]
    later = run(sessions, sig("c-3", lat=37.5702, t=600))
    assert later.new_incident_ids == []
    assert later.incidents[0].call_ids == ["c-1", "c-2", "c-3"]
    assert later.incidents[0].revision == 3
    with sessions() as s:
        kinds = [t.kind for t in get_timeline(s, later.incidents[0].id)]
    assert kinds == ["call_opened", "call_attached", "call_attached"]


def test_far_or_other_type_opens_separate_incidents(sessions) -> None:  # type: ignore[no-untyped-def]
    out = run(sessions, sig("c-1"), sig("c-2", lat=37.58), sig("c-3", type_="cardiac_arrest"))
    assert len(out.new_incident_ids) == 3


def test_replay_changes_nothing_and_republishes(sessions) -> None:  # type: ignore[no-untyped-def]
    first = run(sessions, sig("c-1"), sig("c-2", t=30))
    again = run(sessions, sig("c-1"), sig("c-2", t=30))
    assert again.duplicates == ["c-1", "c-2"]
    assert again.new_incident_ids == [] and again.timeline == []
    assert again.incidents == first.incidents
    with sessions() as s:
        assert len(list_incidents(s)) == 1


def test_same_id_twice_in_one_batch_counts_once(sessions) -> None:  # type: ignore[no-untyped-def]
    out = run(sessions, sig("c-1"), sig("c-1"))
    assert out.incidents[0].call_ids == ["c-1"]


def test_video_event_attaches_to_call_incident(sessions) -> None:  # type: ignore[no-untyped-def]
    run(sessions, sig("c-1"))
    out = run(sessions, sig("cam-1:ep-1", kind="video", lat=37.5701, t=120, type_="fire"))
    assert out.incidents[0].event_ids == ["cam-1:ep-1"]
    assert out.timeline[0].kind == "video_attached"


def test_concurrent_writers_never_split_an_event(tmp_path: Path) -> None:
    """Two workers (threads with their own engines) race on nearby calls: one incident."""
    url = f"sqlite:///{tmp_path / 'race.db'}"
    create_schema(make_engine(url))
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def worker(n: int) -> None:
        sessions = session_factory(writer(make_engine(url)))
        barrier.wait()
        try:
            run(sessions, sig(f"c-{n}", lat=37.57 + n * 0.0001, t=n))
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_factory(make_engine(url))() as s:
        incidents = list_incidents(s)
    assert len(incidents) == 1
    assert sorted(incidents[0].call_ids) == ["c-0", "c-1", "c-2", "c-3"]


def test_database_failure_is_a_store_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no schema
    with pytest.raises(StoreError, match="cannot store 1 signal"):
        run(session_factory(writer(engine)), sig("c-1"))


def test_video_event_alone_opens_an_incident(sessions) -> None:  # type: ignore[no-untyped-def]
    out = run(sessions, sig("video-cam-1:ep-9", kind="video", type_="fire"))
    (incident,) = out.incidents
    assert incident.call_ids == [] and incident.event_ids == ["video-cam-1:ep-9"]
    assert out.timeline[0].kind == "video_opened"


def test_stale_recommendations_are_those_naming_a_changed_unit(sessions) -> None:  # type: ignore[no-untyped-def]
    from dispatch.incident_store import RecommendationRow
    from dispatch.recommendations import incidents_recommending

    out = run(sessions, sig("c-1"), sig("c-2", lat=37.58))
    first, second = out.new_incident_ids
    with sessions.begin() as s:
        for incident_id, units in ((first, ["U1", "U2"]), (second, ["U3"])):
            s.add(
                RecommendationRow(
                    incident_id=incident_id,
                    incident_revision=1,
                    computed_at=NOW,
                    payload={"units": [{"unit_id": u} for u in units]},
                )
            )
    with sessions() as s:
        assert incidents_recommending(s, ["U2"]) == [first]
        assert incidents_recommending(s, ["U9"]) == []
        assert sorted(incidents_recommending(s, ["U1", "U3"])) == sorted([first, second])
