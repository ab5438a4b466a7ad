from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dispatch.intake import incident_id_for, ingest_call
from dispatch.store import get_timeline, list_incidents
from goldentime.contracts import Call
from goldentime.db import create_schema, make_engine, session_factory
from goldentime.errors import StoreError

NOW = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    return session_factory(engine)


def call(call_id: str = "c-1", **kw: object) -> Call:
    fields: dict[str, object] = {
        "id": call_id,
        "received_at": NOW,
        "lat": 37.57,
        "lon": 126.98,
        "type": "fire",
        "description": "연기",
    }
    fields.update(kw)
    return Call.model_validate(fields)


def test_a_call_opens_an_incident_with_a_timeline(sessions: sessionmaker[Session]) -> None:
    result = ingest_call(sessions, call(), now=NOW + timedelta(seconds=1))
    assert result.created and not result.duplicate
    assert result.incident.id == incident_id_for("c-1")
    assert result.incident.call_ids == ["c-1"]
    assert result.incident.created_at == NOW
    with sessions() as s:
        timeline = get_timeline(s, result.incident.id)
    assert [t.kind for t in timeline] == ["call_received"]


def test_a_replayed_call_changes_nothing(sessions: sessionmaker[Session]) -> None:
    first = ingest_call(sessions, call(), now=NOW)
    again = ingest_call(sessions, call(), now=NOW + timedelta(minutes=5))
    assert again.duplicate and not again.created
    assert again.incident == first.incident
    with sessions() as s:
        assert len(list_incidents(s)) == 1
        assert len(get_timeline(s, first.incident.id)) == 1


def test_concurrent_duplicates_make_one_incident(sessions: sessionmaker[Session]) -> None:
    results = []

    def go() -> None:
        results.append(ingest_call(sessions, call("c-race"), now=NOW))

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6
    assert sum(r.created for r in results) == 1
    assert len({r.incident.id for r in results}) == 1
    with sessions() as s:
        assert len(list_incidents(s)) == 1


def test_database_failure_is_a_store_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no schema
    with pytest.raises(StoreError, match="cannot store call c-1"):
        ingest_call(session_factory(engine), call(), now=NOW)
