"""The intake outbox: accepted input kept in the incident database until it is processed.

The embedded broker keeps its topics in memory, so a record the broker acknowledged is not yet
safe: a restart of the broker (or of every process) loses whatever was not consumed. An intake
point therefore writes each record it accepts to ``intake_outbox`` (topic, record id, key,
value) in the same database as the incident record *before* it answers, and only then
publishes it. The consumer that processes the record deletes its row in the transaction that
stores its result (:func:`settle`), so a row that is still there was accepted and not yet
processed. :class:`OutboxRelay` publishes those rows again when its process starts and, after
that, every row whose last send is older than the redelivery delay; consumers are idempotent
by record id, so a record sent twice is processed once.

:class:`OutboxWriter` batches the writes of concurrent requests into one transaction (group
commit): a burst of calls costs one commit, not one per call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from sqlalchemy import (
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    event,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from goldentime.broker.publisher import Message
from goldentime.clock import Clock
from goldentime.db import Base, UtcDateTime, make_engine, one_of
from goldentime.errors import BrokerError, StoreError

log = logging.getLogger(__name__)

SendBatch = Callable[[str, Sequence[Message]], Awaitable[None]]  # a Publisher's publish
# topic, record ids -> those already in the record (their rows are stale: settled before the
# intake's own commit landed, which the intake allows; see console.intake)
StoredCheck = Callable[[Connection, str, list[str]], set[str]]
RELAY_PAGE = 2000  # rows re-published per query
BACKOFF_STEPS = 5  # the redelivery delay doubles per attempt, up to 2**5 times


class OutboxRow(Base):
    """One accepted record not yet processed by its consumer."""

    __tablename__ = "intake_outbox"

    topic: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)


OUTBOX = cast(Table, OutboxRow.__table__)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A record as it will be published: topic, id (the consumer's idempotency key), bytes."""

    topic: str
    record_id: str
    key: bytes | None
    value: bytes
    accepted_at: datetime


def insert_entries(connection: Connection, entries: Sequence[OutboxEntry]) -> None:
    """Insert the entries; one already there (a client's retry with the same id) is kept."""
    rows = [
        {
            "topic": e.topic,
            "record_id": e.record_id,
            "key": e.key,
            "value": e.value,
            "accepted_at": e.accepted_at,
            "sent_at": e.accepted_at,
            "attempts": 1,
        }
        for e in entries
    ]
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(pg_insert(OUTBOX).on_conflict_do_nothing(), rows)
    elif dialect == "sqlite":
        connection.execute(sqlite_insert(OUTBOX).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise StoreError(f"the intake outbox does not support {dialect}")


def store_entries(engine: Engine, entries: Sequence[OutboxEntry]) -> None:
    """Accept ``entries`` in one transaction (for synchronous producers: the video relay, the
    sensors worker's alarms); raises SQLAlchemyError when the database does not take them."""
    if entries:
        with engine.begin() as connection:
            insert_entries(connection, entries)


def settle(session: Session | Connection, topic: str, record_ids: Sequence[str]) -> None:
    """Forget the outbox rows of records now processed (call it in the storing transaction)."""
    if not record_ids:
        return
    dialect = session.get_bind().dialect.name if isinstance(session, Session) else None
    dialect = dialect or cast(Connection, session).dialect.name
    session.execute(
        delete(OUTBOX).where(
            OUTBOX.c.topic == topic, one_of(OUTBOX.c.record_id, list(record_ids), dialect=dialect)
        )
    )


def pending_count(session: Session) -> int:
    """How many accepted records are not processed yet."""
    return int(session.execute(select(func.count()).select_from(OUTBOX)).scalar_one())


def outbox_engine(url: str, *, lock_wait_s: float) -> Engine:
    """An engine for the intake's writes that gives up after ``lock_wait_s`` on a locked
    SQLite database (the caller then answers 503 with Retry-After instead of hanging)."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":

        def _short_wait(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute(f"PRAGMA busy_timeout={int(lock_wait_s * 1000)}")
            cursor.close()

        event.listen(engine, "connect", _short_wait)
    return engine


class OutboxWriter:
    """Writes accepted records durably; concurrent callers share one transaction.

    ``accept`` returns once the records are committed and raises :class:`StoreError` when the
    database did not take them (nothing was accepted: answer 503, the client retries).
    """

    def __init__(self, engine: Engine, *, own_engine: bool = True) -> None:
        self._engine = engine
        self._own_engine = own_engine
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self._waiting: list[tuple[Sequence[OutboxEntry], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def accept(self, entries: Sequence[OutboxEntry]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((entries, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            group, self._waiting = self._waiting, []
            entries = [e for batch, _future in group for e in batch]
            try:
                await loop.run_in_executor(self._executor, self._write, entries)
            except SQLAlchemyError as err:
                failure = StoreError(f"the incident database did not take the record: {err}")
                for _batch, future in group:
                    if not future.done():
                        future.set_exception(failure)
            else:
                for _batch, future in group:
                    if not future.done():
                        future.set_result(None)

    def _write(self, entries: Sequence[OutboxEntry]) -> None:
        with self._engine.begin() as connection:
            insert_entries(connection, entries)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._own_engine:
            self._engine.dispose()


class OutboxRelay:
    """Publishes again what was accepted and not processed: everything at start, then each
    row whose last send is older than ``redeliver_after_s`` (doubling per attempt)."""

    def __init__(
        self,
        engine: Engine,
        send: SendBatch,
        *,
        clock: Clock,
        redeliver_after_s: float,
        interval_s: float,
        stored: StoredCheck | None = None,
    ) -> None:
        self._engine = engine
        self._stored = stored
        self._send = send
        self._clock = clock
        self._redeliver = timedelta(seconds=redeliver_after_s)
        self._interval_s = interval_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-relay")
        self._soon: set[tuple[str, str]] = set()
        self.republished = 0

    def send_soon(self, topic: str, record_id: str) -> None:
        """The first send of this accepted record failed: send it on the next pass."""
        self._soon.add((topic, record_id))

    def _take_soon(self) -> list[OutboxRow]:
        soon, self._soon = self._soon, set()
        c = OUTBOX.c
        found: list[OutboxRow] = []
        with self._engine.connect() as connection:
            for topic in sorted({t for t, _id in soon}):
                ids = [i for t, i in soon if t == topic]
                query = select(c.topic, c.record_id, c.key, c.value, c.sent_at, c.attempts).where(
                    c.topic == topic, one_of(c.record_id, ids, dialect=connection.dialect.name)
                )
                found += [cast(OutboxRow, row) for row in connection.execute(query)]
        return self._drop_stored(found)

    def _due(
        self, *, everything: bool, after: tuple[str, str]
    ) -> tuple[list[OutboxRow], tuple[str, str] | None]:
        """One page of rows to publish again, and where the next page starts (None: done)."""
        now = self._clock.now()
        c = OUTBOX.c
        query = (
            select(c.topic, c.record_id, c.key, c.value, c.sent_at, c.attempts)
            .where(tuple_(c.topic, c.record_id) > tuple_(*after))
            .order_by(c.topic, c.record_id)
            .limit(RELAY_PAGE)
        )
        if not everything:
            query = query.where(c.sent_at <= now - self._redeliver)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        rows = self._drop_stored(rows)
        due = []
        for row in rows:
            wait = self._redeliver * 2 ** min(max(row.attempts - 1, 0), BACKOFF_STEPS)
            if everything or row.sent_at <= now - wait:
                due.append(cast(OutboxRow, row))
        more = (rows[-1].topic, rows[-1].record_id) if len(rows) == RELAY_PAGE else None
        return due, more

    def _drop_stored(self, rows: Sequence[Any]) -> list[Any]:
        """Forget (and skip) rows whose record is already stored."""
        if self._stored is None or not rows:
            return list(rows)
        with self._engine.begin() as connection:
            stale: set[tuple[str, str]] = set()
            for topic in {r.topic for r in rows}:
                ids = [r.record_id for r in rows if r.topic == topic]
                found = self._stored(connection, topic, ids)
                if found:
                    settle(connection, topic, sorted(found))
                    stale |= {(topic, i) for i in found}
        return [r for r in rows if (r.topic, r.record_id) not in stale]

    def _mark_sent(self, rows: Sequence[OutboxRow]) -> None:
        now = self._clock.now()
        with self._engine.begin() as connection:
            for topic in {r.topic for r in rows}:
                ids = [r.record_id for r in rows if r.topic == topic]
                connection.execute(
                    update(OUTBOX)
                    .where(
                        OUTBOX.c.topic == topic,
                        one_of(OUTBOX.c.record_id, ids, dialect=connection.dialect.name),
                    )
                    .values(sent_at=now, attempts=OUTBOX.c.attempts + 1)
                )

    async def relay_once(self, *, everything: bool) -> int:
        """One pass over the outbox; returns how many records were published again."""
        loop = asyncio.get_running_loop()
        sent = 0
        if self._soon and not everything:
            rows = await loop.run_in_executor(self._executor, self._take_soon)
            sent += await self._publish(rows)
        after = ("", "")
        while True:
            rows, more = await loop.run_in_executor(
                self._executor, partial(self._due, everything=everything, after=after)
            )
            sent += await self._publish(rows)
            if more is None:
                break
            after = more
        if sent:
            log.info("intake outbox: %d accepted record(s) published again", sent)
        self.republished += sent
        return sent

    async def _publish(self, rows: Sequence[OutboxRow]) -> int:
        for topic in sorted({r.topic for r in rows}):
            mine = [r for r in rows if r.topic == topic]
            keyless = [r.record_id for r in mine if r.key is None]
            if keyless:  # every writer keys its records: a row without one cannot be sent
                raise BrokerError(f"outbox rows without a key on {topic}: {keyless[:5]}")
            await self._send(topic, [(r.key, r.value) for r in mine if r.key is not None])
        if rows:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._mark_sent, rows)
        return len(rows)

    async def run(self) -> None:
        """Relay until cancelled: a full pass first, then the overdue rows periodically."""
        everything = True
        while True:
            try:
                await self.relay_once(everything=everything)
                everything = False
            except (SQLAlchemyError, BrokerError) as err:
                log.warning("intake outbox not relayed (retrying): %s", err)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not stop the relay for good: log it, go on
                log.exception("intake outbox relay pass failed (retrying)")
            await asyncio.sleep(self._interval_s)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
