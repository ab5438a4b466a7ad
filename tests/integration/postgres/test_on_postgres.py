"""The same code on a real PostgreSQL server: migrations, advisory-lock correlation, the system."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from gt_testing import wait_until
from sqlalchemy import JSON, Column, MetaData, String, Table, select, text

from dispatch.catalog import load_catalog
from dispatch.correlate import Signal
from dispatch.incident_store import list_incidents
from dispatch.intake import ingest
from goldentime.contracts import IncidentType
from goldentime.db import (
    Base,
    UtcDateTime,
    bulk_insert,
    create_schema,
    load_schema_modules,
    make_engine,
    one_of,
    session_factory,
    writer,
)
from goldentime.settings import load_settings
from ops.up import LocalSystem

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
NOW = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


@pytest.fixture
def pg(postgres_url: str) -> Iterator[str]:
    """A clean database on the session's server."""
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield postgres_url


def test_migrations_build_exactly_the_models_on_postgres(pg: str) -> None:
    engine = make_engine(pg)
    create_schema(engine)
    create_schema(engine)  # idempotent
    load_schema_modules()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert list(compare_metadata(context, Base.metadata)) == []


def test_workers_racing_on_postgres_never_split_an_event(pg: str) -> None:
    """Advisory locks on the spatial cells: four writers, nearby calls, one incident."""
    create_schema(make_engine(pg))
    catalog = load_catalog()
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def worker(n: int) -> None:
        sessions = session_factory(writer(make_engine(pg)))
        signal = Signal(
            id=f"pg-{n}",
            kind="call",
            at=NOW + timedelta(seconds=n),
            lat=37.57 + n * 0.0001,
            lon=126.98,
            type=IncidentType.BUILDING_FIRE,
        )
        barrier.wait()
        try:
            ingest(sessions, [signal], now=NOW, catalog=catalog)
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_factory(make_engine(pg))() as s:
        incidents = list_incidents(s)
    assert len(incidents) == 1
    assert sorted(incidents[0].call_ids) == ["pg-0", "pg-1", "pg-2", "pg-3"]


def test_the_system_on_postgres(pg: str, tmp_path: Path) -> None:
    settings = load_settings(
        data={"dir": tmp_path}, console={"port": 0, "auth": "demo"}, database={"url": pg}
    )
    with (
        LocalSystem(settings, echo=lambda _line: None) as system,
        httpx.Client(base_url=system.url, timeout=10) as client,
    ):
        ids = [f"pgc-{uuid.uuid4().hex[:8]}" for _ in range(3)]
        places = [(37.5704, 126.9918), (37.5708, 126.9918), (37.5550, 126.9700)]
        for call_id, (lat, lon) in zip(ids, places, strict=True):
            body = {"id": call_id, "lat": lat, "lon": lon, "type": "building_fire"}
            assert client.post("/api/calls", json=body).status_code == 202
        assert (
            client.post(
                "/api/calls",
                json={"id": ids[0], "lat": 37.5704, "lon": 126.9918, "type": "building_fire"},
            ).status_code
            == 202
        )

        def links() -> dict[str, str] | None:
            found = {}
            for call_id in ids:
                r = client.get(f"/api/calls/{call_id}")
                if r.status_code != 200:
                    return None
                found[call_id] = r.json()["incident_id"]
            return found

        linked = wait_until(links, timeout_s=15)
        assert linked and linked[ids[0]] == linked[ids[1]] != linked[ids[2]]
        incident = wait_until(
            lambda: (
                (d := client.get(f"/api/incidents/{linked[ids[0]]}").json())["recommendation"] and d
            ),
            timeout_s=15,
        )
        assert sorted(incident["call_ids"]) == sorted(ids[:2])
        r = client.post(f"/api/incidents/{incident['id']}/dispatch", json={"id": "pg-cmd-1"})
        assert r.status_code == 202
        result = wait_until(
            lambda: (x := client.get("/api/commands/pg-cmd-1")).status_code == 200 and x.json(),
            timeout_s=10,
        )
        assert result and result["ok"], result


def test_bulk_statements_on_postgres(pg: str) -> None:
    """bulk_insert and one_of (an array parameter) read back what was written."""
    metadata = MetaData()
    table = Table(
        "bulk_check",
        metadata,
        Column("id", String(40), primary_key=True),
        Column("at", UtcDateTime),
        Column("payload", JSON),
    )
    engine = make_engine(pg)
    metadata.create_all(engine)
    data = [
        {"id": f"r{i:04d}", "at": NOW + timedelta(seconds=i), "payload": {"i": i, "gu": "중구"}}
        for i in range(2000)
    ]
    with engine.begin() as conn:
        bulk_insert(conn, table, data)
    wanted = [f"r{i:04d}" for i in range(0, 2000, 3)] + ["absent"]
    with engine.connect() as conn:
        found = conn.execute(
            select(table).where(one_of(table.c.id, wanted, dialect="postgresql"))
        ).mappings()
        by_id = {row["id"]: dict(row) for row in found}
    engine.dispose()
    assert sorted(by_id) == wanted[:-1]
    assert by_id["r0003"] == data[3]
