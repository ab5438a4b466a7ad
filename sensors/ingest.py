"""Reading ingest shared by the HTTP endpoint, the MQTT bridge and file replay.

:class:`ReadingValidator` checks one input against the wire contract and the registry
(unknown sensor, structure or kind mismatch, wrong unit, non-numeric value, timestamp in the
future); :class:`Ingestor` publishes what passes on ``sensor.readings`` keyed by structure
id, and either reports what fails (HTTP) or dead-letters it (MQTT, replay). The broker is
the injected :class:`~goldentime.broker.publisher.BlockingPublisher` (over the Kafka publisher,
or the in-memory fake in tests): records wait in the ingestor until :meth:`Ingestor.drain`
(or :meth:`Ingestor.flush`), which returns once the broker has acknowledged every one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from goldentime import topics
from goldentime.broker.publisher import BlockingPublisher, Message
from goldentime.clock import Clock
from goldentime.contracts import DeadLetter, encode, validate
from goldentime.contracts.sensors import (
    MAX_FUTURE_SKEW_S,
    MAX_READINGS_PER_MESSAGE,
    SensorReading,
    encode_readings,
)
from goldentime.errors import BrokerError, ContractError
from sensors.errors import PublishError, ReadingRejectedError, UnknownSensorError
from sensors.model import SensorSpec
from sensors.registry import SensorRegistry

log = logging.getLogger(__name__)
PENDING_ID = "pending"


def reading_id(sensor_id: str, measured_at: datetime) -> str:
    """The id of a reading sent without one: stable, so a re-sent reading changes nothing."""
    return f"{sensor_id}:{int(measured_at.timestamp() * 1000)}"


class ReadingValidator:
    """Checks readings against the contract, the registry and the clock."""

    def __init__(
        self,
        registry: SensorRegistry,
        *,
        clock: Clock,
        max_future_skew_s: float = MAX_FUTURE_SKEW_S,
    ) -> None:
        self.registry = registry
        self._clock = clock
        self._skew = timedelta(seconds=max_future_skew_s)

    def parse(self, data: Any) -> SensorReading:
        """Validate a parsed JSON object; fill ``id``, ``structure_id`` and ``kind`` when
        missing (from the sensor); raise ReadingRejectedError naming the field."""
        if not isinstance(data, dict):
            raise ReadingRejectedError(f"expected a JSON object, got {type(data).__name__}")
        sensor_id = data.get("sensor_id")
        if not isinstance(sensor_id, str) or not sensor_id:
            raise ReadingRejectedError("sensor_id is missing", field="sensor_id")
        spec = self._spec(sensor_id)
        filled = {"structure_id": spec.structure_id, "kind": spec.kind.value} | data
        given_id = "id" in data
        if not given_id:
            filled["id"] = PENDING_ID
        try:
            reading = validate(SensorReading, filled)
        except ContractError as err:
            raise ReadingRejectedError(err.reason, field=err.field) from err
        if not given_id:
            reading = reading.model_copy(
                update={"id": reading_id(reading.sensor_id, reading.measured_at)}
            )
        self.check(reading)
        return reading

    def _spec(self, sensor_id: str) -> SensorSpec:
        try:
            return self.registry.sensor(sensor_id)
        except UnknownSensorError as err:
            raise ReadingRejectedError(str(err), field="sensor_id") from err

    def check(self, reading: SensorReading, *, unit: bool = True) -> SensorSpec:
        """The sensor's spec, or ReadingRejectedError (unit is skipped with ``unit=False``)."""
        spec = self._spec(reading.sensor_id)
        if reading.structure_id != spec.structure_id:
            raise ReadingRejectedError(
                f"sensor {spec.sensor_id!r} is on structure {spec.structure_id!r}, "
                f"not {reading.structure_id!r}",
                field="structure_id",
            )
        if reading.kind is not spec.kind:
            raise ReadingRejectedError(
                f"sensor {spec.sensor_id!r} measures {spec.kind.value}, not {reading.kind.value}",
                field="kind",
            )
        if unit and reading.unit != spec.unit:
            raise ReadingRejectedError(
                f"wrong unit {reading.unit!r} for {spec.sensor_id!r}: expected {spec.unit!r}",
                field="unit",
            )
        ahead = (reading.measured_at - self._clock.now()).total_seconds()
        if ahead > self._skew.total_seconds():
            raise ReadingRejectedError(
                f"measured_at {reading.measured_at.isoformat()} is {ahead:.0f} s in the future "
                f"(allowed skew {self._skew.total_seconds():g} s)",
                field="measured_at",
            )
        return spec


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    reason: str
    field: str | None = None


@dataclass(slots=True)
class BatchResult:
    accepted_ids: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


class Ingestor:
    """Validates and publishes readings; ``consumer`` names this adapter in dead letters.

    With ``pack`` > 1, readings of one structure are packed into one message (a JSON array,
    see :func:`~goldentime.contracts.sensors.encode_readings`) of up to ``pack`` readings.
    Records (readings and dead letters) wait here until :meth:`drain` (the same as
    :meth:`flush`) publishes them all and waits for the acks, or until ``max_waiting`` of them
    wait (then they go at once, so a long replay does not hold them all).
    """

    def __init__(
        self,
        *,
        validator: ReadingValidator,
        publisher: BlockingPublisher,
        consumer: str,
        clock: Clock,
        pack: int = 1,
        flush_timeout_s: float = 15.0,
        max_waiting: int = 1000,
    ) -> None:
        if not 1 <= pack <= MAX_READINGS_PER_MESSAGE:
            raise ValueError(f"pack must be 1..{MAX_READINGS_PER_MESSAGE}")
        if max_waiting < 1:
            raise ValueError("max_waiting must be >= 1")
        self.validator = validator
        self._publisher = publisher
        self._consumer = consumer
        self._clock = clock
        self._pack = pack
        self._packed: dict[str, list[SensorReading]] = {}
        self._flush_timeout_s = flush_timeout_s
        self._max_waiting = max_waiting
        self._waiting: dict[str, list[Message]] = {}  # topic -> records not published yet
        self._waiting_count = 0
        self.accepted = 0
        self.rejected = 0

    def _publish(self, reading: SensorReading) -> None:
        self.accepted += 1
        if self._pack == 1:
            self._send([reading])
            return
        packed = self._packed.setdefault(reading.structure_id, [])
        packed.append(reading)
        if len(packed) >= self._pack:
            self._send(self._packed.pop(reading.structure_id))

    def _send(self, readings: list[SensorReading]) -> None:
        self._enqueue(
            topics.SENSOR_READINGS.name,
            (readings[0].structure_id.encode(), encode_readings(readings)),
        )

    def _enqueue(self, topic: str, message: Message) -> None:
        self._waiting.setdefault(topic, []).append(message)
        self._waiting_count += 1
        if self._waiting_count >= self._max_waiting:
            self._publish_waiting()

    def _publish_waiting(self) -> None:
        waiting, self._waiting, self._waiting_count = self._waiting, {}, 0
        for topic, messages in waiting.items():
            try:
                self._publisher.publish(topic, messages, timeout_s=self._flush_timeout_s)
            except BrokerError as err:
                raise PublishError(
                    f"{len(messages)} record(s) to {topic} not acknowledged: {err}"
                ) from err

    def drain(self) -> None:
        """Publish every partly filled pack and every waiting record; wait for the acks.

        Raises PublishError when the broker does not acknowledge (what waited is not kept:
        the caller retries, and reading ids make a re-sent reading change nothing).
        """
        packed, self._packed = self._packed, {}
        for readings in packed.values():
            self._send(readings)
        self._publish_waiting()

    def ingest_batch(self, items: Sequence[Any]) -> BatchResult:
        """Publish every valid item and wait for the broker; report the others by index.

        Raises PublishError when the broker does not acknowledge (the caller may retry the
        whole batch: ids make it idempotent).
        """
        result = BatchResult()
        for index, item in enumerate(items):
            try:
                reading = self.validator.parse(item)
            except ReadingRejectedError as err:
                self.rejected += 1
                result.rejected.append(Rejection(index, err.reason, err.field))
                continue
            self._publish(reading)
            result.accepted_ids.append(reading.id)
        if result.accepted_ids:
            self.flush()
        return result

    def ingest_or_dead_letter(
        self, raw: bytes, data: Any, *, source: str, where: str = ""
    ) -> SensorReading | None:
        """Publish a valid reading, or a DeadLetter naming ``source`` and the reason."""
        try:
            reading = self.validator.parse(data)
        except ContractError as err:
            self.dead_letter(raw, reason=f"{where}{err.reason}", source=source)
            return None
        self._publish(reading)
        return reading

    def dead_letter(self, raw: bytes, *, reason: str, source: str) -> None:
        self.rejected += 1
        letter = DeadLetter.for_payload(
            raw, reason=reason, source_topic=source, consumer=self._consumer, at=self._clock.now()
        )
        log.warning("dead-lettered input from %s: %s", source, reason)
        self._enqueue(topics.DEADLETTER.name, (letter.id.encode(), encode(letter)))

    def flush(self) -> None:
        """:meth:`drain`: everything published and acknowledged, or PublishError."""
        self.drain()
