"""Dispatch agents: call intake (calls -> incidents), with dead-lettering and retries.

Every record is processed at least once; processing is idempotent (see ``dispatch.intake``),
so a redelivered record re-publishes the same state and changes nothing. A record that cannot
be parsed or validated goes to the dead-letter topic with the reason and the worker moves on.
A valid call is never dropped: when the database fails, the agent retries with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import faust
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dispatch.intake import IngestResult, ingest_call
from dispatch.store import record_heartbeat
from goldentime import topics
from goldentime.clock import Clock
from goldentime.contracts import Call, DeadLetter, Record, decode, encode
from goldentime.errors import ContractError, StoreError

log = logging.getLogger(__name__)

MAX_UNEXPECTED_ATTEMPTS = 3
STORE_RETRY_MAX_S = 10.0
HEARTBEAT_INTERVAL_S = 2.0


@dataclass
class DispatchContext:
    """What the agents need from outside: the database, the clock, a worker name."""

    sessions: sessionmaker[Session]
    clock: Clock
    consumer_name: str
    executor: ThreadPoolExecutor


def register(app: faust.App, ctx: DispatchContext) -> None:
    """Declare the dispatch topics and agents on ``app``."""

    def topic(spec: topics.TopicSpec) -> Any:
        return app.topic(spec.name, key_serializer="raw", value_serializer="raw")

    calls_topic = topic(topics.CALLS)
    incidents_topic = topic(topics.INCIDENTS)
    timeline_topic = topic(topics.TIMELINE)
    deadletter_topic = topic(topics.DEADLETTER)
    loop_holder: dict[str, asyncio.AbstractEventLoop] = {}

    async def publish(spec_topic: Any, record: Record) -> None:
        await spec_topic.send(key=record.id.encode(), value=encode(record))

    async def dead_letter(event: Any, reason: str) -> None:
        message = event.message
        letter = DeadLetter.for_payload(
            message.value if isinstance(message.value, bytes) else bytes(message.value or b""),
            reason=reason,
            source_topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key if isinstance(message.key, bytes) else None,
            consumer=ctx.consumer_name,
            at=ctx.clock.now(),
        )
        log.warning("dead-lettered %s: %s", letter.id, reason)
        await deadletter_topic.send(key=letter.id.encode(), value=encode(letter))

    async def store(call: Call) -> IngestResult:
        loop = loop_holder.setdefault("loop", asyncio.get_running_loop())
        delay = 0.2
        while True:
            try:
                return await loop.run_in_executor(
                    ctx.executor, lambda: ingest_call(ctx.sessions, call, now=ctx.clock.now())
                )
            except StoreError as err:
                log.error(
                    "database unavailable for call %s, retrying in %.1fs: %s", call.id, delay, err
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, STORE_RETRY_MAX_S)

    async def handle_call(event: Any) -> None:
        try:
            call = decode(Call, event.value)
        except ContractError as err:
            await dead_letter(event, err.reason)
            return
        result = await store(call)
        await publish(incidents_topic, result.incident)
        for entry in result.timeline:
            await publish(timeline_topic, entry)
        log.info(
            "call %s -> %s (%s)",
            call.id,
            result.incident.id,
            "duplicate" if result.duplicate else "new incident",
        )

    started_at = ctx.clock.now()

    async def heartbeat() -> None:
        assigned = sum(1 for tp in app.consumer.assignment() if tp.topic == topics.CALLS.name)

        def write() -> None:
            with ctx.sessions.begin() as session:
                record_heartbeat(
                    session,
                    name=ctx.consumer_name,
                    started_at=started_at,
                    now=ctx.clock.now(),
                    partitions=assigned,
                )

        try:
            await asyncio.get_running_loop().run_in_executor(ctx.executor, write)
        except SQLAlchemyError as err:
            log.warning("heartbeat not recorded: %s", err)

    async def periodic_heartbeat() -> None:
        await heartbeat()

    async def after_rebalance(_sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await heartbeat()

    app.timer(HEARTBEAT_INTERVAL_S)(periodic_heartbeat)
    app.on_rebalance_complete.connect(after_rebalance)

    @app.agent(calls_topic, name="dispatch.intake")
    async def intake(stream: faust.StreamT[Any]) -> AsyncIterator[None]:
        async for event in stream.events():
            for attempt in range(1, MAX_UNEXPECTED_ATTEMPTS + 1):
                try:
                    await handle_call(event)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as err:
                    log.exception(
                        "processing call at offset %s failed (attempt %d)",
                        event.message.offset,
                        attempt,
                    )
                    if attempt == MAX_UNEXPECTED_ATTEMPTS:
                        await dead_letter(event, f"processing failed: {type(err).__name__}: {err}")
            yield None
