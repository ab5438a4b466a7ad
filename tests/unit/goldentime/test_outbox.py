"""The intake outbox: accepted once, settled by the consumer, relayed until settled."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from gt_testing import run_coroutine
from sqlalchemy import Engine, select

from goldentime.clock import ManualClock
from goldentime.db import create_schema, make_engine, session_factory
from goldentime.outbox import (
    OUTBOX,
    Message,
    OutboxEntry,
    OutboxRelay,
    OutboxWriter,
    pending_count,
    settle,
)

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def entry(record_id: str, topic: str = "calls") -> OutboxEntry:
    return OutboxEntry(topic, record_id, b"k", f'{{"id": "{record_id}"}}'.encode(), NOW)


def database(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    return engine


def rows(engine: Engine) -> list[tuple[str, str, int]]:
    with engine.connect() as conn:
        query = select(OUTBOX.c.topic, OUTBOX.c.record_id, OUTBOX.c.attempts).order_by(
            OUTBOX.c.topic, OUTBOX.c.record_id
        )
        return [(r.topic, r.record_id, r.attempts) for r in conn.execute(query)]


def test_concurrent_accepts_are_all_stored_and_a_retry_is_kept_once(tmp_path: Path) -> None:
    engine = database(tmp_path)
    writer = OutboxWriter(engine, own_engine=False)

    async def burst() -> None:
        await asyncio.gather(*(writer.accept([entry(f"c-{n:03d}")]) for n in range(200)))
        await writer.accept([entry("c-000")])  # a client's retry with the same id

    run_coroutine(lambda: burst())
    writer.close()
    assert len(rows(engine)) == 200
    with session_factory(engine)() as session:
        assert pending_count(session) == 200


def test_settle_forgets_only_the_processed_records_of_that_topic(tmp_path: Path) -> None:
    engine = database(tmp_path)
    writer = OutboxWriter(engine, own_engine=False)
    run_coroutine(lambda: writer.accept([entry("a"), entry("b"), entry("a", topic="commands")]))
    writer.close()
    with session_factory(engine).begin() as session:
        settle(session, "calls", ["a", "unknown"])
    assert rows(engine) == [("calls", "b", 1), ("commands", "a", 1)]


class Sent:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []

    async def __call__(self, topic: str, messages: Sequence[Message]) -> None:
        self.messages += [(topic, value) for _key, value in messages]


def test_relay_sends_everything_at_start_then_only_overdue_rows_with_backoff(
    tmp_path: Path,
) -> None:
    engine = database(tmp_path)
    writer = OutboxWriter(engine, own_engine=False)
    run_coroutine(lambda: writer.accept([entry("old"), entry("new")]))
    writer.close()
    clock = ManualClock(NOW)
    sent = Sent()
    relay = OutboxRelay(engine, sent, clock=clock, redeliver_after_s=10, interval_s=1)

    assert run_coroutine(lambda: relay.relay_once(everything=True)) == 2, "a start sends all"
    assert run_coroutine(lambda: relay.relay_once(everything=False)) == 0, "just sent: not overdue"
    with session_factory(engine).begin() as session:
        settle(session, "calls", ["new"])  # the consumer processed it
    clock.advance(15)
    assert run_coroutine(lambda: relay.relay_once(everything=False)) == 0, (
        "2nd attempt waits 2 x 10 s"
    )
    clock.advance(10)
    assert run_coroutine(lambda: relay.relay_once(everything=False)) == 1
    assert [t for t, _v in sent.messages] == ["calls", "calls", "calls"]
    assert rows(engine) == [("calls", "old", 3)]


def test_relay_forgets_rows_of_records_already_stored(tmp_path: Path) -> None:
    """The intake publishes while it commits: a fast consumer may settle before the row exists;
    the relay then finds the record stored and drops the row instead of sending it again."""
    engine = database(tmp_path)
    writer = OutboxWriter(engine, own_engine=False)
    run_coroutine(lambda: writer.accept([entry("stored"), entry("waiting")]))
    writer.close()
    sent = Sent()
    relay = OutboxRelay(
        engine,
        sent,
        clock=ManualClock(NOW),
        redeliver_after_s=10,
        interval_s=1,
        stored=lambda _conn, topic, ids: {i for i in ids if i == "stored"},
    )
    assert run_coroutine(lambda: relay.relay_once(everything=True)) == 1
    assert sent.messages == [("calls", b'{"id": "waiting"}')]
    assert rows(engine) == [("calls", "waiting", 2)]
