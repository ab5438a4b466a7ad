"""Dispatch agents: intake of calls and video events, commands, recommendations, heartbeat.

Every record is processed at least once, in batches: calls through the batch consumer
(``dispatch.batch_consumer``: whole fetches, committed after store and publish), the other
topics through faust agents (``take_events`` acks a batch only after the loop body is done).
Nothing may escape a batch's body: every error is handled inside. Whatever is published is
acknowledged by the broker before the offsets of its inputs move. Processing is idempotent
(see ``dispatch.intake`` and ``dispatch.commands``): a redelivered record re-publishes the
same state and changes nothing. A record that cannot be parsed or validated goes to the
dead-letter topic with the reason and the worker moves on; a valid record is never dropped:
when the database or the broker fails, the batch is retried with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar, cast

import faust
from sqlalchemy.exc import SQLAlchemyError

from dispatch import recommender
from dispatch.batch_consumer import BatchConsumer
from dispatch.closures import ClosureBook, active_closures, follow_closures
from dispatch.commands import apply_command
from dispatch.context import DispatchContext
from dispatch.correlate import Signal
from dispatch.intake import BatchOutcome, ingest
from dispatch.mci_commands import mci_services
from dispatch.reroute import sync_routes
from dispatch.sensor_intake import AlarmHandler
from dispatch.signals import call_signal, video_signal
from dispatch.store import record_heartbeat
from dispatch.structure_alarms import StructureDirectory, load_structures
from dispatch.units import unit_record
from goldentime import outbox, topics
from goldentime.contracts import Call, DeadLetter, Record, TimelineEntry, decode, encode
from goldentime.contracts.dispatch import Command
from goldentime.contracts.routing import RoadClosure
from goldentime.contracts.sensors import SensorAlarm
from goldentime.contracts.video import VideoEvent
from goldentime.errors import BrokerError, ContractError, StoreError
from goldentime.metrics import Metrics, Outcome, ReasonClass, reason_class_of

log = logging.getLogger(__name__)

BATCH_MAX = 500
BATCH_WITHIN_S = 0.01
STORE_RETRY_MAX_S = 10.0
HEARTBEAT_INTERVAL_S = 2.0
SWEEP_INTERVAL_S = 5.0
RECOMMEND_CHUNK = 4  # incidents per recommendation step (about 20 ms of routing)
DRAIN_TIMEOUT_S = 8.0  # within the supervisor's stop timeout (10 s)
CLOSURE_SYNC_S = 5.0  # reconcile the network's closures with the database this often

T = TypeVar("T")
Processed = tuple[str, list[str]]  # topic and ids of consumed records (their outbox rows)


def message_key(record: Record) -> str:
    """The key a record is published with (its partition and, on compacted topics, identity)."""
    return record.incident_id if isinstance(record, TimelineEntry) else record.id


def _recommending(ctx: DispatchContext, unit_ids: list[str]) -> list[str]:
    with ctx.sessions() as session:
        return recommender.incidents_recommending(session, unit_ids)


def _due(ctx: DispatchContext) -> list[str]:
    with ctx.sessions() as session:
        return recommender.due_incidents(session, now=ctx.clock.now())


def register(
    app: faust.App,
    ctx: DispatchContext,
    *,
    recommendations: bool = True,
    metrics: Metrics | None = None,
    structures: StructureDirectory | None = None,
) -> BatchConsumer:
    """Declare the dispatch topics, agents and timers on ``app``; returns the calls consumer.

    ``recommendations=False`` leaves out the recommender task (the intake throughput
    benchmark measures correlation alone; workers always run it). ``metrics`` receives the
    processed/dead-letter counts and end-to-end latencies (default: a private registry).
    ``structures``: the monitored bridges and tunnels (default: the sensors registry of the
    configured Seoul data).
    """
    from goldentime.settings import load_settings

    metrics = metrics if metrics is not None else Metrics()
    if structures is None:
        structures = load_structures(load_settings().seoul_data_dir, network=ctx.network)
    book = ClosureBook(ctx.network)
    # ERs (capacities by level, overridden by settings) and road ETAs of the MCI commands
    mci = mci_services(ctx.network, ctx.hospitals, overrides=load_settings().mci_er_capacities)
    alarm_handler = AlarmHandler(
        writers=ctx.writers,
        book=book,
        structures=structures,
        catalog=ctx.catalog,
        locate_gu=ctx.locate_gu,
    )

    def topic(spec: topics.TopicSpec) -> Any:
        return app.topic(spec.name, key_serializer="raw", value_serializer="raw")

    wake_recommender: asyncio.Queue[str] = asyncio.Queue()
    # calls come by the thousand after an outage: read whole fetches (see batch_consumer)
    calls_consumer = BatchConsumer(topics.CALLS.name, options=ctx.calls_consumer)

    async def publish(spec: topics.TopicSpec, records: Sequence[Record]) -> None:
        """Send ``records`` and wait until the broker has them all (then offsets may move).

        Keyed by record id, except timeline entries: by incident id, so one incident's history
        stays in one partition, in order.
        """
        messages = [(message_key(r).encode(), encode(r)) for r in records]
        delay = 0.2
        while True:  # valid results are never dropped; a repeat is harmless (idempotent)
            try:
                await ctx.publisher.publish(spec.name, messages)
                return
            except BrokerError as err:
                log.error("publishing to %s failed, retrying in %.1fs: %s", spec.name, delay, err)
                await asyncio.sleep(delay)
                delay = min(delay * 2, STORE_RETRY_MAX_S)

    async def dead_letter(message: Any, reason: str, *, reason_class: ReasonClass) -> None:
        """Dead-letter a consumed message (a faust event's ``message`` or an aiokafka record)."""
        letter = DeadLetter.for_message(
            message, reason=reason, consumer=ctx.consumer_name, at=ctx.clock.now()
        )
        log.warning("dead-lettered %s: %s", letter.id, reason)
        await publish(topics.DEADLETTER, [letter])
        metrics.record_dead_letter(topic=letter.source_topic, reason_class=reason_class)

    def record_done(topic: str, records: Sequence[Record], outcome: Outcome) -> None:
        """Count ``records`` as handled and observe their event time -> now."""
        metrics.record_processed(topic=topic, outcome=outcome, count=len(records))
        metrics.observe_latencies(
            topic=topic, event_times=(r.event_time for r in records), now=ctx.clock.now()
        )

    async def in_store(work: Callable[[], T], what: str) -> T:
        """Run database work off the loop; retry with backoff while the database fails."""
        loop = asyncio.get_running_loop()
        delay = 0.2
        while True:
            try:
                return await loop.run_in_executor(ctx.executor, work)
            except (StoreError, SQLAlchemyError) as err:
                log.error("database unavailable for %s, retrying in %.1fs: %s", what, delay, err)
                await asyncio.sleep(delay)
                delay = min(delay * 2, STORE_RETRY_MAX_S)

    async def store_signals(signals: list[Signal], *, processed: Processed) -> None:
        await announce(signals, await store(signals, processed=processed))

    async def store(signals: list[Signal], *, processed: Processed) -> BatchOutcome:
        """Correlate and store (in the store thread, retried while the database fails); in the
        same transaction, forget the intake outbox rows of the ``processed`` records (topic,
        ids): they are part of the record now."""
        topic, ids = processed

        def work() -> BatchOutcome:
            return ingest(
                ctx.writers,
                signals,
                now=ctx.clock.now(),
                catalog=ctx.catalog,
                locate_gu=ctx.locate_gu,
                also=partial(outbox.settle, topic=topic, record_ids=ids) if ids else None,
            )

        return await in_store(work, f"{len(signals)} signal(s)")

    async def announce(signals: list[Signal], outcome: BatchOutcome) -> None:
        """Publish what a stored batch changed and wake the recommender for it."""
        await publish(topics.INCIDENTS, outcome.incidents)
        await publish(topics.TIMELINE, outcome.timeline)
        if recommendations:
            for incident in outcome.incidents:
                wake_recommender.put_nowait(incident.id)
        if outcome.new_incident_ids or outcome.duplicates:
            log.info(
                "%d signal(s): %d new incident(s), %d duplicate(s)",
                len(signals),
                len(outcome.new_incident_ids),
                len(outcome.duplicates),
            )

    async def guarded(events: Sequence[Any], body: Callable[[], Any], what: str) -> None:
        """Never let an error escape a batch: the batch is acked when the body returns."""
        for attempt in range(1, 4):
            try:
                await body()
                return
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.exception("%s failed (attempt %d)", what, attempt)
                if attempt == 3:
                    for event in events:
                        await dead_letter(
                            getattr(event, "message", event),  # faust event or aiokafka record
                            f"processing failed: {type(err).__name__}: {err}",
                            reason_class=ReasonClass.PROCESSING,
                        )

    async def handle_calls(records: Sequence[Any]) -> Callable[[], Awaitable[None]]:
        """A fetched batch of calls: decode, dead-letter the bad, correlate and store; returns
        the second phase, publishing, which the consumer runs in batch order."""
        calls: list[Call] = []
        signals: list[Signal] = []
        stored: BatchOutcome | None = None  # None: dead-lettered, it could not be processed
        what = f"{len(records)} call(s)"

        async def store_body() -> None:
            nonlocal calls, signals, stored
            calls = []
            for record in records:
                try:
                    calls.append(decode(Call, record.value))
                except ContractError as err:
                    await dead_letter(record, err.reason, reason_class=reason_class_of(err.reason))
            signals = [call_signal(call) for call in calls]
            stored = await store(signals, processed=(topics.CALLS.name, [c.id for c in calls]))

        async def publish_body() -> None:
            if stored is not None:
                await announce(signals, stored)
                record_done(topics.CALLS.name, calls, Outcome.OK)

        async def finish() -> None:
            await guarded(records, publish_body, what)

        await guarded(records, store_body, what)
        return finish

    async def call_intake() -> None:
        await calls_consumer.run(handle_calls, on_assigned=heartbeat)

    @app.agent(topic(topics.VIDEO_EVENTS), name="dispatch.video")
    async def video(stream: faust.StreamT[Any]) -> AsyncIterator[None]:
        async for events in cast(faust.Stream[Any], stream).take_events(
            BATCH_MAX, within=BATCH_WITHIN_S
        ):

            async def body(events: Sequence[Any] = events) -> None:
                signals = []
                used: list[VideoEvent] = []
                ignored: list[VideoEvent] = []
                for event in events:
                    try:
                        video_event = decode(VideoEvent, event.value)
                    except ContractError as err:
                        await dead_letter(
                            event.message, err.reason, reason_class=reason_class_of(err.reason)
                        )
                        continue
                    signal = video_signal(video_event)
                    if signal is None:
                        ignored.append(video_event)
                    else:
                        signals.append(signal)
                        used.append(video_event)
                done = [v.id for v in used + ignored]
                await store_signals(signals, processed=(topics.VIDEO_EVENTS.name, done))
                record_done(topics.VIDEO_EVENTS.name, used, Outcome.OK)
                record_done(topics.VIDEO_EVENTS.name, ignored, Outcome.IGNORED)

            await guarded(events, body, f"{len(events)} video event(s)")
            yield None

    @app.agent(topic(topics.COMMANDS), name="dispatch.commands")
    async def commands(stream: faust.StreamT[Any]) -> AsyncIterator[None]:
        async for events in cast(faust.Stream[Any], stream).take_events(100, within=BATCH_WITHIN_S):

            async def body(events: Sequence[Any] = events) -> None:
                for event in events:
                    try:
                        command = decode(Command, event.value)
                    except ContractError as err:
                        await dead_letter(
                            event.message, err.reason, reason_class=reason_class_of(err.reason)
                        )
                        continue

                    def work(command: Command = command) -> Any:
                        with ctx.writers.begin() as session:
                            applied = apply_command(session, command, now=ctx.clock.now(), mci=mci)
                            outbox.settle(session, topics.COMMANDS.name, [command.id])
                            return applied

                    applied = await in_store(work, f"command {command.id}")
                    if not applied.result.ok:
                        log.info("command %s refused: %s", command.id, applied.result.reason)
                    outcome = Outcome.OK if applied.result.ok else Outcome.REFUSED
                    record_done(topics.COMMANDS.name, [command], outcome)
                    await publish(topics.INCIDENTS, applied.incidents)
                    await publish(topics.UNITS, await routed(applied.units))
                    await publish(topics.TIMELINE, applied.timeline)
                    for incident in applied.incidents:
                        wake_recommender.put_nowait(incident.id)
                    if applied.units:
                        # recommendations naming these units are stale now; others can wait
                        # for the periodic refresh
                        unit_ids = [u.id for u in applied.units]
                        stale = await in_store(
                            partial(_recommending, ctx, unit_ids), "stale recommendations"
                        )
                        for incident_id in stale:
                            wake_recommender.put_nowait(incident_id)

            await guarded(events, body, f"{len(events)} command(s)")
            yield None

    async def routed(units: Sequence[Record]) -> Sequence[Record]:
        """Plan routes for units now on their way (drop others'); their current states."""
        if not units:
            return units
        ids = [u.id for u in units]

        def work() -> list[Record]:
            with ctx.writers.begin() as session:
                changed = {
                    row.id: unit_record(row)
                    for row in sync_routes(session, ctx.network, ids, now=ctx.clock.now())
                }
            return [changed.get(u.id, u) for u in units]

        return await in_store(work, f"routes of {len(ids)} unit(s)")

    @app.agent(topic(topics.SENSOR_ALARMS), name="dispatch.sensors")
    async def sensor_alarms(stream: faust.StreamT[Any]) -> AsyncIterator[None]:
        async for events in cast(faust.Stream[Any], stream).take_events(
            BATCH_MAX, within=BATCH_WITHIN_S
        ):

            async def body(events: Sequence[Any] = events) -> None:
                alarms: list[SensorAlarm] = []
                for event in events:
                    try:
                        alarms.append(decode(SensorAlarm, event.value))
                    except ContractError as err:
                        await dead_letter(
                            event.message, err.reason, reason_class=reason_class_of(err.reason)
                        )
                if not alarms:
                    return

                def work() -> Any:
                    handled = alarm_handler.handle(alarms, now=ctx.clock.now())
                    with ctx.sessions.begin() as session:
                        outbox.settle(session, topics.SENSOR_ALARMS.name, [a.id for a in alarms])
                    return handled

                outcome = await in_store(work, f"{len(alarms)} sensor alarm(s)")
                # closures first: every other worker applies them before it routes again
                await publish(topics.CLOSURES, outcome.closures)
                await publish(topics.INCIDENTS, outcome.incidents)
                await publish(topics.UNITS, outcome.units)
                await publish(topics.TIMELINE, outcome.timeline)
                await publish(topics.ALERT_REQUESTS, outcome.alerts)
                for incident in outcome.incidents:
                    wake_recommender.put_nowait(incident.id)
                if outcome.closures:
                    wake_recommender.put_nowait("*")
                acted = set(outcome.handled)
                record_done(
                    topics.SENSOR_ALARMS.name, [a for a in alarms if a.id in acted], Outcome.OK
                )
                record_done(
                    topics.SENSOR_ALARMS.name,
                    [a for a in alarms if a.id not in acted],
                    Outcome.IGNORED,
                )
                for alarm_id in outcome.unknown:
                    log.warning("sensor alarm %s: structure not in the registry", alarm_id)

            await guarded(events, body, f"{len(events)} sensor alarm(s)")
            yield None

    async def apply_closure(record: RoadClosure) -> None:
        loop = asyncio.get_running_loop()
        if await loop.run_in_executor(ctx.executor, book.apply, record):
            log.info("closure %s %s: %s", record.id, record.action.value, record.structure_name)
            wake_recommender.put_nowait("*")

    async def sync_closures() -> None:
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
            wake_recommender.put_nowait("*")

    async def closures_follower() -> None:
        await sync_closures()  # re-apply what is active before anything is routed
        bootstrap = [f"{url.host}:{url.port or 9092}" for url in app.conf.broker]
        await follow_closures(bootstrap, apply_closure, client_id=f"{ctx.consumer_name}:closures")

    async def recommend_loop() -> None:
        """Recommend in small chunks: incidents that just changed first (first woken, first
        served), then, when nothing is waiting, the sweep's refreshes of older ones.

        A burst of new incidents then waits for a few recommendations, never behind a sweep.
        """
        urgent: dict[str, None] = {}  # insertion-ordered sets
        background: dict[str, None] = {}
        next_sweep = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                if not urgent and not background:
                    timeout = max(next_sweep - loop.time(), 0.0)
                    with contextlib.suppress(TimeoutError):
                        urgent[await asyncio.wait_for(wake_recommender.get(), timeout)] = None
                while not wake_recommender.empty():
                    urgent[wake_recommender.get_nowait()] = None
                forced = "*" in urgent  # the road network changed: look at every open one
                urgent.pop("*", None)
                if forced or loop.time() >= next_sweep:
                    due = await in_store(partial(_due, ctx), "recommendation sweep")
                    background |= {i: None for i in due if i not in urgent}
                    next_sweep = loop.time() + SWEEP_INTERVAL_S
                source = urgent or background
                chunk = set(list(source)[:RECOMMEND_CHUNK])
                for incident_id in chunk:
                    source.pop(incident_id, None)
                    background.pop(incident_id, None)
                if chunk:
                    made = await in_store(
                        partial(recommender.compute, ctx, chunk), "recommendations"
                    )
                    await publish(topics.RECOMMENDATIONS, made)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("recommendation round failed; the sweep will retry")
                await asyncio.sleep(1.0)

    async def heartbeat() -> None:
        assigned = len(calls_consumer.assignment())

        def write() -> None:
            # read-then-write: BEGIN IMMEDIATE on SQLite (a deferred one fails at once with
            # "database is locked" when another writer committed in between)
            with ctx.writers.begin() as session:
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

    async def stop_publisher(_sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        # the call batches in hand are finished (stored, published) and committed first
        if await calls_consumer.drain(timeout_s=DRAIN_TIMEOUT_S):
            log.info("call intake drained: batches in hand stored, published and committed")
        await ctx.publisher.stop()

    started_at = ctx.clock.now()
    app.on_before_shutdown.connect(stop_publisher)
    app.timer(HEARTBEAT_INTERVAL_S)(periodic_heartbeat)
    app.task(closures_follower)
    app.task(call_intake)
    app.timer(CLOSURE_SYNC_S)(sync_closures)
    if recommendations:
        app.task(recommend_loop)
    return calls_consumer
