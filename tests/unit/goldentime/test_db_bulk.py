"""Bulk statements of goldentime.db: the same rows as Core's own, any number of values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Engine, Float, MetaData, String, Table, insert, select

from goldentime.db import UtcDateTime, bulk_insert, make_engine, one_of

KST = timezone(timedelta(hours=9))


def table(name: str, metadata: MetaData) -> Table:
    return Table(
        name,
        metadata,
        Column("id", String(40), primary_key=True),
        Column("at", UtcDateTime),
        Column("lat", Float),
        Column("note", String(200), nullable=True),
        Column("payload", JSON),
    )


def rows(n: int) -> list[dict[str, Any]]:
    start = datetime(2026, 11, 27, 9, 0, tzinfo=KST)
    return [
        {
            "id": f"r{i:05d}",
            "at": start + timedelta(seconds=i),
            "lat": 37.5 + i / 1e5,
            "note": None if i % 3 else f"메모 {i}",
            "payload": {"i": i, "name": "종로구", "nested": [1, 2.5, None]},
        }
        for i in range(n)
    ]


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return make_engine(f"sqlite:///{tmp_path / 'bulk.db'}")


def test_bulk_insert_stores_what_core_insert_stores(engine: Engine) -> None:
    metadata = MetaData()
    fast, core = table("fast", metadata), table("core", metadata)
    metadata.create_all(engine)
    data = rows(500)
    with engine.begin() as conn:
        bulk_insert(conn, fast, data)
        conn.execute(insert(core), data)
        bulk_insert(conn, fast, [])  # nothing to do
    with engine.connect() as conn:
        got_fast = conn.execute(select(fast).order_by(fast.c.id)).mappings().all()
        got_core = conn.execute(select(core).order_by(core.c.id)).mappings().all()
    assert [dict(r) for r in got_fast] == [dict(r) for r in got_core]
    assert got_fast[0]["at"] == data[0]["at"]  # the same instant, read back in UTC
    assert got_fast[0]["at"].tzinfo == UTC
    assert got_fast[3]["note"] == "메모 3" and got_fast[1]["note"] is None
    assert got_fast[7]["payload"] == data[7]["payload"]


def test_bulk_insert_applies_the_columns_rules(engine: Engine) -> None:
    metadata = MetaData()
    strict = table("strict", metadata)
    metadata.create_all(engine)
    naive = rows(1)[0] | {"at": datetime(2026, 11, 27, 9, 0)}
    with pytest.raises(ValueError, match="naive datetime"), engine.begin() as conn:
        bulk_insert(conn, strict, [naive])


def test_one_of_matches_thousands_of_values_with_one_parameter(engine: Engine) -> None:
    metadata = MetaData()
    t = table("many", metadata)
    metadata.create_all(engine)
    data = rows(3000)
    with engine.begin() as conn:
        bulk_insert(conn, t, data)
    wanted = [f"r{i:05d}" for i in range(0, 3000, 2)] + ["absent", "r99999"]
    query = select(t.c.id).where(one_of(t.c.id, wanted, dialect=engine.dialect.name))
    assert "json_each" in str(query.compile(dialect=engine.dialect))
    with engine.connect() as conn:
        found = conn.execute(query).scalars().all()
    assert sorted(found) == [f"r{i:05d}" for i in range(0, 3000, 2)]


def test_sqlite_datetimes_are_written_and_read_exactly_as_sqlalchemy_does() -> None:
    """The fast text conversion of UtcDateTime on SQLite equals SQLAlchemy's DateTime one."""
    from sqlalchemy import DateTime
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    ours_in = UtcDateTime().bind_processor(dialect)
    ours_out = UtcDateTime().result_processor(dialect, None)
    theirs_in = DateTime().dialect_impl(dialect).bind_processor(dialect)
    theirs_out = DateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert ours_in and ours_out and theirs_in and theirs_out
    samples = [
        datetime(2026, 11, 27, 3, 0, tzinfo=UTC),  # no microseconds: still six digits
        datetime(2026, 11, 27, 12, 30, 5, 123456, tzinfo=KST),
        datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2026, 3, 1, 0, 0, 0, 999999, tzinfo=UTC),
    ]
    for value in samples:
        text = ours_in(value)
        assert text == theirs_in(value.astimezone(UTC).replace(tzinfo=None))
        assert ours_out(text) == value  # the same instant
        assert ours_out(text).tzinfo == UTC
        assert theirs_out(text) == ours_out(text).replace(tzinfo=None)
    assert ours_in(None) is None and ours_out(None) is None
    assert ours_out("2026-11-27 03:00:00") == datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        ours_in(datetime(2026, 11, 27, 3, 0))
