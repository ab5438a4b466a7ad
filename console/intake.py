"""Durable intake for the console: a call or command is accepted once the database has it.

``POST /api/calls`` and the command endpoints hand their record to :class:`DurableIntake`:

1. the record is written to the intake outbox (``goldentime.outbox``) in the incident database,
   batched with the records of concurrent requests into one commit. When the database does not
   take it within ``GOLDENTIME_INTAKE_LOCK_WAIT_S`` the answer is 503 with ``Retry-After``:
   nothing was accepted, the client retries with the same id;
2. then it is published on its topic, waiting at most ``GOLDENTIME_INTAKE_PUBLISH_WAIT_S`` for
   the broker. A broker that is away or slow does not make the answer fail: the record is
   already durable and the outbox relay (started with the console) sends it again until the
   consumer has processed it (the consumer deletes the outbox row in the same transaction).

So 202 means: stored in the incident database, and it will become part of the record exactly
once, whatever restarts in between.

While the console is stopping (:meth:`DurableIntake.drain`), state-changing requests get 503
with ``Retry-After`` (:class:`DrainGuard`), so a client goes to the next console or retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import status
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from goldentime.broker.publisher import Publisher, publish_record
from goldentime.clock import Clock
from goldentime.contracts import Record, encode
from goldentime.errors import BrokerError, StoreError
from goldentime.outbox import (
    OutboxEntry,
    OutboxRelay,
    OutboxWriter,
    SendBatch,
    outbox_engine,
    pending_count,
)
from goldentime.settings import Settings
from goldentime.topics import TopicSpec

log = logging.getLogger(__name__)

RETRY_AFTER_S = 2
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _retry_later(detail: str, **content: str) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": detail, **content},
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def already_stored(connection: Connection, topic: str, ids: list[str]) -> set[str]:
    """The calls and commands among ``ids`` that dispatch has stored already."""
    from dispatch import queries
    from goldentime import topics

    if topic == topics.CALLS.name:
        return queries.stored_call_ids(connection, ids)
    if topic == topics.COMMANDS.name:
        return queries.stored_command_ids(connection, ids)
    return set()


def _quiet(task: asyncio.Future[None]) -> None:
    """Collect the outcome of a send nobody waits for (its record was refused anyway)."""
    if not task.cancelled():
        task.exception()


def _is_in_memory(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


class DurableIntake:
    """Outbox first, then the broker; the relay sends again what is not processed yet.

    ``relay_send`` publishes raw messages (the console's ``publisher``); without it (a test's
    fake publisher) records are kept but only a later console's relay sends them again.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine,
        publisher: Publisher,
        clock: Clock,
        relay_send: SendBatch | None,
    ) -> None:
        self._settings = settings
        self._publisher = publisher
        self._clock = clock
        self._in_memory = _is_in_memory(engine)
        write_engine = (
            engine
            if self._in_memory
            else outbox_engine(
                engine.url.render_as_string(hide_password=False),
                lock_wait_s=settings.intake.lock_wait_s,
            )
        )
        # Writes that must not hang on a locked database (the outbox; the console's audit rows).
        self.write_engine = write_engine
        self._writer = OutboxWriter(write_engine, own_engine=not self._in_memory)
        self._engine = engine
        self._relay = (
            OutboxRelay(
                engine,
                relay_send,
                clock=clock,
                redeliver_after_s=settings.intake.redeliver_after_s,
                interval_s=settings.intake.relay_interval_s,
                stored=already_stored,
            )
            if relay_send is not None
            else None
        )
        self.draining = False

    @property
    def durable(self) -> bool:
        """Accepted records survive a restart of every process (outbox on a durable database,
        a relay to send them again)."""
        return not self._in_memory and self._relay is not None

    def pending(self) -> int:
        """Accepted records not processed yet (the outbox rows)."""
        from goldentime.db import session_factory

        with session_factory(self._engine)() as session:
            return pending_count(session)

    async def accept(
        self, topic: TopicSpec, record: Record, *, key: str, id_field: str
    ) -> JSONResponse | None:
        """Take ``record``: None when accepted, else the 503 answer to return."""
        if self.draining:
            return _retry_later("the console is stopping; retry", **{id_field: record.id})
        entry = OutboxEntry(
            topic=topic.name,
            record_id=record.id,
            key=key.encode(),
            value=encode(record),
            accepted_at=self._clock.now(),
        )
        # Both at once: the dispatch worker can take the call while the commit waits for the
        # database's write lock (SQLite has one writer), so the outbox adds no latency to the
        # call -> recommendation path. Published but not committed (503): the client retries
        # with the same id, and the worker stores it once.
        send = asyncio.ensure_future(
            asyncio.wait_for(
                publish_record(self._publisher, topic, record, key=key),
                self._settings.intake.publish_wait_s,
            )
        )
        try:
            await self._writer.accept([entry])
        except StoreError as err:
            send.add_done_callback(_quiet)
            log.warning("%s %s not accepted: %s", topic.name, record.id, err)
            return _retry_later(f"not taken, retry: {err}", **{id_field: record.id})
        try:
            await send
        except (BrokerError, TimeoutError) as err:
            if self._relay is not None:
                self._relay.send_soon(topic.name, record.id)
            log.warning(
                "%s %s accepted (in the outbox); the broker did not take it yet, the relay "
                "will send it: %s",
                topic.name,
                record.id,
                err or "timed out",
            )
        return None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The relay runs while the console does; the writer is closed after it."""
        task = asyncio.create_task(self._relay.run()) if self._relay is not None else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                assert self._relay is not None
                self._relay.close()
            self._writer.close()


class DrainGuard:
    """503 with Retry-After for state-changing requests once the console is stopping."""

    def __init__(self, app: ASGIApp, *, intake: DurableIntake) -> None:
        self._app = app
        self._intake = intake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and self._intake.draining
            and scope.get("method", "GET") in STATE_CHANGING
        ):
            response = _retry_later("the console is stopping; retry")
            await response(scope, receive, send)
            return
        await self._app(scope, receive, send)
