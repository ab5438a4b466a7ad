"""Surges on a real PostgreSQL server: four workers racing on the calls of one crowd crush
(each batch a surge on its own, over several cells) make one MCI: the intake's advisory
locks on the cells serialize them, and no batch fails (no deadlock, no duplicate MCI row)."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from dispatch.catalog import load_catalog
from dispatch.correlate import Signal
from dispatch.incident_store import CallRow, IncidentRow
from dispatch.intake import ingest
from dispatch.mci_store import MciRow
from goldentime.contracts import IncidentType
from goldentime.db import create_schema, make_engine, session_factory, writer

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
T0 = datetime(2026, 10, 29, 13, 15, tzinfo=UTC)
ALLEY = (37.5345, 126.9945)
CROWD = (IncidentType.EMS, IncidentType.CARDIAC_ARREST, IncidentType.RESCUE, IncidentType.OTHER)


@pytest.fixture
def pg(postgres_url: str) -> Iterator[str]:
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield postgres_url


def crowd_call(i: int) -> Signal:
    angle, metres = i * 2.4, 40.0 + 20.0 * (i % 11)  # within 250 m, over several cells
    lat = ALLEY[0] + metres * math.sin(angle) / 111_320
    lon = ALLEY[1] + metres * math.cos(angle) / 88_300
    return Signal(
        id=f"pg-crowd-{i}",
        kind="call",
        at=T0 + timedelta(seconds=20 * i),
        lat=lat,
        lon=lon,
        type=CROWD[i % 4],
        description="사람들이 쓰러졌어요",
        source="api",
        payload={"caller": f"010-{i}", "location_uncertainty_m": 120.0},
    )


def test_workers_racing_on_a_crowd_make_one_mci(pg: str) -> None:
    create_schema(make_engine(pg))
    catalog = load_catalog()
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def worker(n: int) -> None:
        sessions = session_factory(writer(make_engine(pg)))
        signals = [crowd_call(i) for i in range(n, 16, 4)]  # each a surge on its own
        barrier.wait()
        try:
            ingest(sessions, signals, now=T0 + timedelta(minutes=10), catalog=catalog)
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_factory(make_engine(pg))() as session:
        holders = set(session.scalars(select(CallRow.incident_id)))
        active = session.scalars(
            select(IncidentRow.id).where(
                IncidentRow.id.in_(holders), IncidentRow.status != "merged"
            )
        ).all()
        mcis = session.scalars(select(MciRow.incident_id)).all()
    assert len(active) == 1 and mcis == active
