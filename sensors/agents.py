"""The sensors faust agent: ``sensor.readings`` -> rules -> ``sensor.alarms`` (+ dead letters).

Readings are consumed in batches (``take_events``); faust acks a batch when the loop body
returns, so nothing may escape the body: a bad record is dead-lettered with the reason, an
unexpected error retries the batch (safe: the engine ignores readings it has already seen,
by ``measured_at``) and after three attempts dead-letters the batch. Readings are keyed by
structure id, so all sensors of a structure are on one partition and one worker.

A timer looks for silent sensors (gap faults) against the event-time watermark, so a replay
at any speed finds the same gaps.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import faust
import orjson
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from goldentime import topics
from goldentime.clock import Clock, SystemClock
from goldentime.contracts import DeadLetter, decode, encode, validate
from goldentime.contracts.sensors import (
    MAX_READINGS_PER_MESSAGE,
    SENSOR_ALARMS,
    SensorAlarm,
    SensorReading,
)
from goldentime.errors import ContractError
from goldentime.outbox import OutboxEntry, outbox_engine, store_entries
from goldentime.retry import RetriesExhaustedError, retry_async
from goldentime.settings import Settings
from sensors.ingest import ReadingValidator
from sensors.registry import SensorRegistry, load_registry
from sensors.rules import RulesEngine

log = logging.getLogger(__name__)

BATCH_MAX = 1000
BATCH_WITHIN_S = 0.01
GAP_CHECK_S = 10.0
ATTEMPTS = 3


@dataclass
class SensorsContext:
    registry: SensorRegistry
    engine: RulesEngine
    validator: ReadingValidator
    clock: Clock
    consumer_name: str = "sensors.rules"
    on_batch: Callable[[int], None] | None = None  # readings per batch (benchmarks)
    outbox: Engine | None = None  # alarms are accepted into the intake outbox first


def build_context(
    settings: Settings,
    *,
    clock: Clock | None = None,
    registry: SensorRegistry | None = None,
    durable_alarms: bool = True,
) -> SensorsContext:
    """``durable_alarms``: write each raised alarm to the intake outbox of the incident
    database before it is published (the console's relay sends it again until dispatch has
    handled it)."""
    clock = clock or SystemClock()
    registry = registry or load_registry(settings.data.seoul_dir)
    return SensorsContext(
        registry=registry,
        engine=RulesEngine(registry),
        validator=ReadingValidator(registry, clock=clock),
        clock=clock,
        outbox=(
            outbox_engine(settings.effective_database_url, lock_wait_s=settings.intake.lock_wait_s)
            if durable_alarms
            else None
        ),
    )


_READING_LIST = TypeAdapter(list[SensorReading])


@dataclass(frozen=True, slots=True)
class BadItem:
    """One bad element of an array message: dead-lettered alone, its siblings go on."""

    index: int
    raw: bytes
    reason: str


def decode_reading(raw: bytes) -> SensorReading:
    """Fast path (pydantic JSON) for good records; the full reason for bad ones."""
    try:
        return SensorReading.model_validate_json(raw)
    except ValidationError:
        return decode(SensorReading, raw)  # raises ContractError with field and reason


def decode_message(raw: bytes) -> list[SensorReading | BadItem]:
    """A ``sensor.readings`` value: one reading or an array of them.

    Raises ContractError when the message as a whole is unusable (not JSON, empty or too
    long an array); a bad element of a good array comes back as a :class:`BadItem`.
    """
    if raw.lstrip()[:1] != b"[":
        return [decode_reading(raw)]
    try:
        readings: list[SensorReading | BadItem] = list(_READING_LIST.validate_json(raw))
    except ValidationError:
        readings = []
        try:
            items = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            raise ContractError(f"not JSON: {err}") from err
        for index, item in enumerate(items):
            try:
                readings.append(validate(SensorReading, item))
            except ContractError as err:
                readings.append(BadItem(index, orjson.dumps(item), f"item {index}: {err.reason}"))
    if not 1 <= len(readings) <= MAX_READINGS_PER_MESSAGE:
        raise ContractError(
            f"{len(readings)} readings in one message: 1..{MAX_READINGS_PER_MESSAGE}"
        )
    return readings


class _Readings:
    """The readings agent's work: rules over a batch, alarms out, bad input dead-lettered."""

    def __init__(self, ctx: SensorsContext, *, alarms_topic: Any, deadletter_topic: Any) -> None:
        self.ctx = ctx
        self.alarms_topic = alarms_topic
        self.deadletter_topic = deadletter_topic

    async def publish_alarms(self, alarms: Sequence[SensorAlarm]) -> None:
        ctx = self.ctx
        if alarms and ctx.outbox is not None:
            now = ctx.clock.now()
            entries = [
                OutboxEntry(SENSOR_ALARMS.name, a.id, a.structure_id.encode(), encode(a), now)
                for a in alarms
            ]
            try:
                await asyncio.get_running_loop().run_in_executor(
                    None, store_entries, ctx.outbox, entries
                )
            except SQLAlchemyError as err:  # the broker's acknowledgement is all there is now
                log.error("%d alarm(s) not in the intake outbox (database away): %s",
                          len(alarms), err)  # fmt: skip
        for alarm in alarms:
            await self.alarms_topic.send(key=alarm.structure_id.encode(), value=encode(alarm))
            if not alarm.fault:
                log.info("%s %s: %s -> %s (%s)", alarm.structure_id, alarm.rule,
                            alarm.previous_level, alarm.level, alarm.reason)  # fmt: skip

    async def dead_letter(self, event: Any, reason: str, item: BadItem | None = None) -> None:
        ctx = self.ctx
        letter = DeadLetter.for_message(
            event.message,
            reason=reason,
            consumer=ctx.consumer_name,
            at=ctx.clock.now(),
            payload=None if item is None else item.raw,
            part=None if item is None else item.index,
        )
        log.warning("dead-lettered %s: %s", letter.id, reason)
        await self.deadletter_topic.send(key=letter.id.encode(), value=encode(letter))

    async def handle(self, events: Sequence[Any]) -> int:
        """Run the rules over a batch; return the number of readings it held."""
        alarms: list[SensorAlarm] = []
        count = 0
        for event in events:
            try:
                decoded = decode_message(event.value)
            except ContractError as err:
                await self.dead_letter(event, err.reason)
                continue
            count += len(decoded)
            for reading in decoded:
                alarms.extend(await self._apply(event, decoded, reading))
        await self.publish_alarms(alarms)
        return count

    async def _apply(
        self, event: Any, decoded: list[SensorReading | BadItem], reading: SensorReading | BadItem
    ) -> list[SensorAlarm]:
        """The rules' alarms for one reading (none for a bad one: it is dead-lettered)."""
        if isinstance(reading, BadItem):
            await self.dead_letter(event, reading.reason, reading)
            return []
        try:
            spec = self.ctx.validator.check(reading, unit=False)
        except ContractError as err:
            await self.dead_letter(event, err.reason, _item(decoded, reading))
            return []
        alarms = list(self.ctx.engine.process(reading))
        if reading.unit != spec.unit:
            reason = (
                f"wrong unit {reading.unit!r} for {spec.sensor_id!r}: "
                f"expected {spec.unit!r} (reported as a sensor fault)"
            )
            await self.dead_letter(event, reason, _item(decoded, reading))
        return alarms


def register(
    app: faust.App, ctx: SensorsContext, *, gap_check_s: float | None = GAP_CHECK_S
) -> None:
    """Declare the readings agent (and the gap timer) on ``app``."""

    def topic(name: str) -> Any:
        return app.topic(name, key_serializer="raw", value_serializer="raw")

    work = _Readings(
        ctx,
        alarms_topic=topic(SENSOR_ALARMS.name),
        deadletter_topic=topic(topics.DEADLETTER.name),
    )
    handle, dead_letter, publish_alarms = work.handle, work.dead_letter, work.publish_alarms

    @app.agent(topic(topics.SENSOR_READINGS.name), name="sensors.rules")
    async def rules(stream: faust.StreamT[Any]) -> AsyncIterator[None]:
        async for events in cast(faust.Stream[Any], stream).take_events(
            BATCH_MAX, within=BATCH_WITHIN_S
        ):
            count = len(events)
            try:
                count = await retry_async(
                    functools.partial(handle, events),
                    retry_if=lambda _err: True,  # any failure: the batch is tried again
                    attempts=ATTEMPTS,
                    on_retry=_log_failure(len(events)),
                )
            except RetriesExhaustedError as err:
                _log_failure(len(events))(err.last, err.attempts, 0.0)
                for event in events:
                    await _quietly(dead_letter(event, f"processing failed: {err.last!r}"))
            if ctx.on_batch is not None:
                ctx.on_batch(count)
            yield None

    async def gaps() -> None:
        watermark = ctx.engine.watermark
        if watermark is not None:
            await _quietly(publish_alarms(ctx.engine.check_gaps(now=watermark)))

    if gap_check_s is not None:
        app.timer(gap_check_s, name="sensors.gaps")(gaps)


def _item(decoded: list[SensorReading | BadItem], reading: SensorReading) -> BadItem | None:
    """The dead-letter item of ``reading`` when it came in an array, else None."""
    if len(decoded) == 1:
        return None
    return BadItem(decoded.index(reading), encode(reading), "")


async def _quietly(work: Any) -> None:
    """Await ``work``; log instead of raising (a failed dead letter must not stop the loop)."""
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("could not publish")


def _log_failure(size: int) -> Callable[[BaseException, int, float], None]:
    def log_it(err: BaseException, attempt: int, _delay: float) -> None:
        log.error("%d reading(s) failed (attempt %d)", size, attempt, exc_info=err)

    return log_it
