"""Dispatch worker wiring: one consumer loop over the per-topic handlers, plus timers.

Every input topic (calls, video events, commands, sensor alarms) is read by the batch consumer
(``dispatch.batch_consumer``: whole fetches, committed after store and publish), each in its
own consumer group, and handed to its handler in ``dispatch.handlers`` (plain async functions
over decoded records, sharing ``dispatch.pipeline.Pipeline``). Nothing may escape a batch:
every error is handled inside. Whatever is published is acknowledged by the broker before the
offsets of its inputs move. Processing is idempotent (see ``dispatch.intake`` and
``dispatch.commands``): a redelivered record re-publishes the same state and changes nothing.
A record that cannot be parsed or validated goes to the dead-letter topic with the reason and
the worker moves on; a valid record is never dropped: when the database or the broker fails,
the batch is retried with backoff.

The faust app around them runs the timers and tasks (heartbeat, closures, recommender) and the
worker's lifecycle (signals, shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import faust
from sqlalchemy.exc import SQLAlchemyError

from dispatch import recommendations
from dispatch.batch_consumer import BatchConsumer, BatchConsumerOptions, BatchHandler
from dispatch.context import DispatchContext
from dispatch.handlers import (
    consuming,
    handle_calls,
    handle_commands,
    handle_sensor_alarms,
    handle_video_events,
)
from dispatch.incident_store import record_heartbeat
from dispatch.mci_commands import mci_services
from dispatch.pipeline import EVERY_INCIDENT, Pipeline, message_key
from dispatch.sensor_intake import AlarmHandler
from dispatch.structure_alarms import StructureDirectory
from dispatch.structure_closures import ClosureBook, active_closures, follow_closures
from goldentime import topics
from goldentime.contracts import Call
from goldentime.contracts.dispatch import Command
from goldentime.contracts.sensors import SensorAlarm
from goldentime.contracts.video import VideoEvent
from goldentime.metrics import Metrics

__all__ = ["DispatchConsumers", "message_key", "register"]

log = logging.getLogger(__name__)

COMMANDS_BATCH_MAX = 100  # commands are applied one by one: smaller fetches, shorter batches
HEARTBEAT_INTERVAL_S = 2.0
SWEEP_INTERVAL_S = 5.0
RECOMMEND_CHUNK = 4  # incidents per recommendation step (about 20 ms of routing)
DRAIN_TIMEOUT_S = 8.0  # within the supervisor's stop timeout (10 s)
CLOSURE_SYNC_S = 5.0  # reconcile the network's closures with the database this often


def _due(ctx: DispatchContext) -> list[str]:
    with ctx.sessions() as session:
        return recommendations.due_incidents(session, now=ctx.clock.now())


@dataclasses.dataclass(frozen=True)
class DispatchConsumers:
    """The worker's topic consumers; ``calls`` carries the heavy intake."""

    calls: BatchConsumer
    video_events: BatchConsumer
    commands: BatchConsumer
    sensor_alarms: BatchConsumer

    def all(self) -> tuple[BatchConsumer, ...]:
        return (self.calls, self.video_events, self.commands, self.sensor_alarms)


def _consumers(ctx: DispatchContext, app_id: str) -> DispatchConsumers:
    """One consumer group per topic: ``<app id>.calls`` (as before), ``.video``, ``.commands``,
    ``.sensors``, each with the calls consumer's broker options."""
    base = ctx.calls_consumer

    def group(name: str, **changes: Any) -> BatchConsumerOptions:
        return dataclasses.replace(base, group_id=f"{app_id}.{name}", **changes)

    return DispatchConsumers(
        calls=BatchConsumer(topics.CALLS.name, options=base),
        video_events=BatchConsumer(topics.VIDEO_EVENTS.name, options=group("video")),
        commands=BatchConsumer(
            topics.COMMANDS.name, options=group("commands", max_records=COMMANDS_BATCH_MAX)
        ),
        sensor_alarms=BatchConsumer(topics.SENSOR_ALARMS.name, options=group("sensors")),
    )


class _Worker:
    """The loops of one dispatch worker around its pipeline."""

    def __init__(
        self, app: faust.App, pipeline: Pipeline, book: ClosureBook, consumers: DispatchConsumers
    ) -> None:
        self.app = app
        self.p = pipeline
        self.ctx = pipeline.ctx
        self.book = book
        self.consumers = consumers
        self.started_at = self.ctx.clock.now()

    def handlers(self) -> list[tuple[BatchConsumer, BatchHandler]]:
        p, c = self.p, self.consumers
        return [
            (c.calls, consuming(p, Call, handle_calls, noun="call")),
            (c.video_events, consuming(p, VideoEvent, handle_video_events, noun="video event")),
            (c.commands, consuming(p, Command, handle_commands, noun="command")),
            (c.sensor_alarms, consuming(p, SensorAlarm, handle_sensor_alarms, noun="sensor alarm")),
        ]

    def consume(
        self, consumer: BatchConsumer, handler: BatchHandler
    ) -> Callable[[], Awaitable[None]]:
        """The task that runs ``consumer`` with ``handler`` (calls: heartbeat on rebalance)."""
        hook = self.heartbeat if consumer is self.consumers.calls else None

        async def run() -> None:
            await consumer.run(handler, on_assigned=hook)

        return run

    async def apply_closure(self, record: Any) -> None:
        loop = asyncio.get_running_loop()
        if await loop.run_in_executor(self.ctx.executor, self.book.apply, record):
            log.info("closure %s %s: %s", record.id, record.action.value, record.structure_name)
            self.p.wake([EVERY_INCIDENT])

    async def sync_closures(self) -> None:
        ctx, book = self.ctx, self.book

        def work() -> tuple[int, int]:
            with ctx.sessions() as session:
                return book.sync(active_closures(session))

        try:
            closed, reopened = await asyncio.get_running_loop().run_in_executor(ctx.executor, work)
        except SQLAlchemyError as err:
            log.warning("closures not reconciled with the database: %s", err)
            return
        if closed or reopened:
            log.info("closures from the database: %d applied, %d reopened", closed, reopened)
            self.p.wake([EVERY_INCIDENT])

    async def closures_follower(self) -> None:
        await self.sync_closures()  # re-apply what is active before anything is routed
        bootstrap = [f"{url.host}:{url.port or 9092}" for url in self.app.conf.broker]
        await follow_closures(
            bootstrap, self.apply_closure, client_id=f"{self.ctx.consumer_name}:closures"
        )

    async def recommend_loop(self) -> None:
        """Recommend in small chunks: incidents that just changed first (first woken, first
        served), then, when nothing is waiting, the sweep's refreshes of older ones.

        A burst of new incidents then waits for a few recommendations, never behind a sweep.
        """
        rounds = _RecommendRounds(self.p)
        while True:
            try:
                await rounds.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("recommendation round failed; the sweep will retry")
                await asyncio.sleep(1.0)

    async def heartbeat(self) -> None:
        ctx = self.ctx
        assigned = len(self.consumers.calls.assignment())

        def write() -> None:
            # read-then-write: BEGIN IMMEDIATE on SQLite (a deferred one fails at once with
            # "database is locked" when another writer committed in between)
            with ctx.writers.begin() as session:
                record_heartbeat(
                    session,
                    name=ctx.consumer_name,
                    started_at=self.started_at,
                    now=ctx.clock.now(),
                    partitions=assigned,
                )

        try:
            await asyncio.get_running_loop().run_in_executor(ctx.executor, write)
        except SQLAlchemyError as err:
            log.warning("heartbeat not recorded: %s", err)

    async def periodic_heartbeat(self) -> None:
        await self.heartbeat()

    async def stop_publisher(self, _sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        # the batches in hand are finished (stored, published) and committed first
        drained = await asyncio.gather(
            *(c.drain(timeout_s=DRAIN_TIMEOUT_S) for c in self.consumers.all())
        )
        if all(drained):
            log.info("intake drained: batches in hand stored, published and committed")
        await self.ctx.publisher.stop()


class _RecommendRounds:
    """The recommender's queues: woken incidents (urgent) before the sweep's (background)."""

    def __init__(self, p: Pipeline) -> None:
        self.p = p
        self.urgent: dict[str, None] = {}  # insertion-ordered sets
        self.background: dict[str, None] = {}
        self.next_sweep = 0.0

    async def _collect(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Wait for a wake-up (or the next sweep) when idle; drain the queue. True: forced."""
        woken = self.p.wake_queue
        if not self.urgent and not self.background:
            timeout = max(self.next_sweep - loop.time(), 0.0)
            with contextlib.suppress(TimeoutError):
                self.urgent[await asyncio.wait_for(woken.get(), timeout)] = None
        while not woken.empty():
            self.urgent[woken.get_nowait()] = None
        forced = EVERY_INCIDENT in self.urgent  # the road network changed: every open one
        self.urgent.pop(EVERY_INCIDENT, None)
        return forced

    async def step(self) -> None:
        loop = asyncio.get_running_loop()
        p = self.p
        forced = await self._collect(loop)
        if forced or loop.time() >= self.next_sweep:
            due = await p.in_store(partial(_due, p.ctx), "recommendation sweep")
            self.background |= {i: None for i in due if i not in self.urgent}
            self.next_sweep = loop.time() + SWEEP_INTERVAL_S
        source = self.urgent or self.background
        chunk = set(list(source)[:RECOMMEND_CHUNK])
        for incident_id in chunk:
            source.pop(incident_id, None)
            self.background.pop(incident_id, None)
        if chunk:
            made = await p.in_store(
                partial(recommendations.compute, p.ctx, chunk), "recommendations"
            )
            await p.publish(topics.RECOMMENDATIONS, made)


def register(
    app: faust.App,
    ctx: DispatchContext,
    *,
    recommendations: bool = True,
    structures: StructureDirectory,
    metrics: Metrics | None = None,
) -> DispatchConsumers:
    """Declare the dispatch consumers, tasks and timers on ``app``; returns the consumers.

    ``recommendations=False`` leaves out the recommender task (the intake throughput
    benchmark measures correlation alone; workers always run it). ``metrics`` receives the
    processed/dead-letter counts and end-to-end latencies (default: a private registry).
    ``structures``: the monitored bridges and tunnels on ``ctx.network``
    (``dispatch.structure_alarms.directory_of``; the worker's composition root hands in the
    structure registry).
    """
    from goldentime.settings import load_settings

    settings = load_settings()
    book = ClosureBook(ctx.network)
    pipeline = Pipeline(
        ctx,
        metrics=metrics if metrics is not None else Metrics(),
        # ERs (capacities by level, overridden by settings) and road ETAs of the MCI commands
        mci=mci_services(
            ctx.network,
            ctx.hospitals,
            overrides=settings.dispatch.mci_er_capacities,
            units_csv=settings.data.seoul_dir / "units" / "fire_units.csv",
        ),
        alarms=AlarmHandler(
            writers=ctx.writers,
            book=book,
            structures=structures,
            catalog=ctx.catalog,
            locate_gu=ctx.locate_gu,
        ),
        recommendations=recommendations,
    )
    consumers = _consumers(ctx, app.conf.id)
    worker = _Worker(app, pipeline, book, consumers)
    app.on_before_shutdown.connect(worker.stop_publisher)
    app.timer(HEARTBEAT_INTERVAL_S)(worker.periodic_heartbeat)
    app.task(worker.closures_follower)
    for consumer, handler in worker.handlers():
        app.task(worker.consume(consumer, handler))
    app.timer(CLOSURE_SYNC_S)(worker.sync_closures)
    if recommendations:
        app.task(worker.recommend_loop)
    return consumers
