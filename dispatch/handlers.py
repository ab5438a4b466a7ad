"""One handler per dispatch input topic: calls, video events, commands, sensor alarms.

Each handler is a plain async function over decoded records: ``handler(pipeline, records)``
does the first phase of a batch (store) and returns its second phase (publish), which the
consumer runs in batch order before it commits the batch's offsets. Handlers know no broker:
:func:`consuming` adapts one to the consumer's raw records (decode, dead-letter what cannot be
decoded, guard both phases). Handlers whose order matters across batches (commands, sensor
alarms) do all their work in the second phase.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TypeVar

from aiokafka import ConsumerRecord

from dispatch import recommendations
from dispatch.batch_consumer import BatchHandler, FinishBatch
from dispatch.commands import Applied, apply_command
from dispatch.context import DispatchContext
from dispatch.correlate import Signal
from dispatch.intake import BatchOutcome
from dispatch.pipeline import EVERY_INCIDENT, Pipeline
from dispatch.sensor_intake import AlarmOutcome
from dispatch.signals import call_signal, video_signal
from goldentime import outbox, topics
from goldentime.contracts import Call, Record, decode
from goldentime.contracts.dispatch import Command
from goldentime.contracts.sensors import SensorAlarm
from goldentime.contracts.video import VideoEvent
from goldentime.errors import ContractError
from goldentime.metrics import Outcome, reason_class_of

log = logging.getLogger(__name__)

R = TypeVar("R", bound=Record)
TopicHandler = Callable[[Pipeline, Sequence[R]], Awaitable[FinishBatch]]


async def _nothing() -> None:
    return None


async def handle_calls(p: Pipeline, calls: Sequence[Call]) -> FinishBatch:
    """Correlate and store a batch of calls; the second phase publishes what changed."""
    signals = [call_signal(call) for call in calls]
    stored = await p.store(signals, processed=(topics.CALLS.name, [c.id for c in calls]))

    async def finish() -> None:
        await p.announce(signals, stored)
        p.record_done(topics.CALLS.name, calls, Outcome.OK)

    return finish


async def handle_video_events(p: Pipeline, events: Sequence[VideoEvent]) -> FinishBatch:
    """Correlate and store the video events that are signals (the others are ignored but
    settled); the second phase publishes what changed."""
    used: list[VideoEvent] = []
    ignored: list[VideoEvent] = []
    signals: list[Signal] = []
    for event in events:
        signal = video_signal(event)
        if signal is None:
            ignored.append(event)
        else:
            signals.append(signal)
            used.append(event)
    done = [v.id for v in used + ignored]
    stored: BatchOutcome = await p.store(signals, processed=(topics.VIDEO_EVENTS.name, done))

    async def finish() -> None:
        await p.announce(signals, stored)
        p.record_done(topics.VIDEO_EVENTS.name, used, Outcome.OK)
        p.record_done(topics.VIDEO_EVENTS.name, ignored, Outcome.IGNORED)

    return finish


async def handle_commands(p: Pipeline, commands: Sequence[Command]) -> FinishBatch:
    """Apply dispatchers' commands one by one, in order, in the second phase."""

    async def finish() -> None:
        for command in commands:
            await apply_one_command(p, command)

    return finish


def _apply(p: Pipeline, command: Command) -> Applied:
    ctx = p.ctx
    with ctx.writers.begin() as session:
        applied = apply_command(session, command, now=ctx.clock.now(), mci=p.mci)
        outbox.settle(session, topics.COMMANDS.name, [command.id])
        return applied


def _recommending(ctx: DispatchContext, unit_ids: list[str]) -> list[str]:
    with ctx.sessions() as session:
        return recommendations.incidents_recommending(session, unit_ids)


async def apply_one_command(p: Pipeline, command: Command) -> None:
    """Apply one command (idempotent), publish what it changed, wake the recommendations."""
    applied = await p.in_store(partial(_apply, p, command), f"command {command.id}")
    if not applied.result.ok:
        log.info("command %s refused: %s", command.id, applied.result.reason)
    outcome = Outcome.OK if applied.result.ok else Outcome.REFUSED
    p.record_done(topics.COMMANDS.name, [command], outcome)
    await p.publish(topics.INCIDENTS, applied.incidents)
    await p.publish(topics.UNITS, await p.routed(applied.units))
    await p.publish(topics.TIMELINE, applied.timeline)
    p.wake(incident.id for incident in applied.incidents)
    if applied.units and p.recommendations:
        # recommendations naming these units are stale now; others can wait for the sweep
        unit_ids = [u.id for u in applied.units]
        stale = await p.in_store(partial(_recommending, p.ctx, unit_ids), "stale recommendations")
        p.wake(stale)


def _handle_alarms(p: Pipeline, alarms: list[SensorAlarm]) -> AlarmOutcome:
    handled = p.alarms.handle(alarms, now=p.ctx.clock.now())
    with p.ctx.sessions.begin() as session:
        outbox.settle(session, topics.SENSOR_ALARMS.name, [a.id for a in alarms])
    return handled


async def handle_sensor_alarms(p: Pipeline, alarms: Sequence[SensorAlarm]) -> FinishBatch:
    """Close or reopen roads, open incidents and ask for alerts, in the second phase."""
    if not alarms:
        return _nothing

    async def finish() -> None:
        batch = list(alarms)
        outcome = await p.in_store(
            partial(_handle_alarms, p, batch), f"{len(batch)} sensor alarm(s)"
        )
        # closures first: every other worker applies them before it routes again
        await p.publish(topics.CLOSURES, outcome.closures)
        await p.publish(topics.INCIDENTS, outcome.incidents)
        await p.publish(topics.UNITS, outcome.units)
        await p.publish(topics.TIMELINE, outcome.timeline)
        await p.publish(topics.ALERT_REQUESTS, outcome.alerts)
        p.wake(incident.id for incident in outcome.incidents)
        if outcome.closures:
            p.wake([EVERY_INCIDENT])
        acted = set(outcome.handled)
        name = topics.SENSOR_ALARMS.name
        p.record_done(name, [a for a in batch if a.id in acted], Outcome.OK)
        p.record_done(name, [a for a in batch if a.id not in acted], Outcome.IGNORED)
        for alarm_id in outcome.unknown:
            log.warning("sensor alarm %s: structure not in the registry", alarm_id)

    return finish


def consuming(
    p: Pipeline, contract: type[R], handler: TopicHandler[R], *, noun: str
) -> BatchHandler:
    """``handler`` as the batch consumer's handler of raw records: decode each (a record that
    cannot be decoded goes to the dead-letter topic with the reason), run the first phase,
    and return the second; both guarded (see ``Pipeline.guarded``)."""

    async def on_batch(records: Sequence[ConsumerRecord[bytes, bytes]]) -> FinishBatch:
        what = f"{len(records)} {noun}(s)"
        finish: FinishBatch | None = None

        async def first() -> None:
            nonlocal finish
            decoded: list[R] = []
            for record in records:
                try:
                    decoded.append(decode(contract, record.value))
                except ContractError as err:
                    reason_class = reason_class_of(err.reason)
                    await p.dead_letter(record, err.reason, reason_class=reason_class)
            finish = await handler(p, decoded)

        async def second() -> None:
            if finish is not None:
                await p.guarded(records, finish, what)

        await p.guarded(records, first, what)
        return second

    return on_batch
