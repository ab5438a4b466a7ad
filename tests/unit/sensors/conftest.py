"""Shared fixtures for the sensors unit tests: the real registry, the in-memory publisher."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from goldentime.broker.publisher import BlockingPublisher, InMemoryPublisher
from goldentime.clock import ManualClock
from goldentime.contracts.sensors import SensorReading
from goldentime.settings import load_settings
from sensors.ingest import Ingestor, ReadingValidator
from sensors.registry import SensorRegistry, load_registry

T0 = datetime.fromisoformat("2025-07-15T06:00:00+09:00")


@pytest.fixture(scope="session")
def registry() -> SensorRegistry:
    return load_registry(Path(load_settings().data.seoul_dir))


def make_reading(
    sensor_id: str, value: float, minute: float, *, unit: str | None = None, rid: str | None = None
) -> SensorReading:
    """A reading of ``sensor_id`` at T0 + ``minute`` (unit defaults to the sensor's)."""
    structure_id, _, local = sensor_id.partition(".")
    kinds = {"wl": ("water_level", "m"), "wi": ("wind", "m/s"), "ac": ("acceleration", "gal"),
             "te": ("temperature", "degC"), "co": ("co", "ppm"), "sm": ("smoke", "1/m"),
             "di": ("displacement", "mm")}  # fmt: skip
    kind, default_unit = kinds[local[:2]]
    at = T0 + timedelta(minutes=minute)
    return SensorReading(
        id=rid or f"{sensor_id}:{int(at.timestamp() * 1000)}",
        structure_id=structure_id,
        sensor_id=sensor_id,
        kind=kind,
        value=value,
        unit=unit or default_unit,
        measured_at=at,
    )


@pytest.fixture(scope="session")
def reading() -> Any:
    """``reading(sensor_id, value, minute, unit=None, rid=None)`` -> SensorReading."""
    return make_reading


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0 + timedelta(hours=6))


@pytest.fixture
def publisher() -> InMemoryPublisher:
    """What reached the (fake) broker: ``publisher.messages(topic)``."""
    return InMemoryPublisher()


@pytest.fixture
def blocking(publisher: InMemoryPublisher) -> Iterator[BlockingPublisher]:
    """The fake as the ingestor's threads use it (blocking until acknowledged)."""
    adapter = BlockingPublisher(publisher, name="test-sensors-publisher")
    yield adapter
    adapter.close()


@pytest.fixture
def ingestor(registry: SensorRegistry, clock: ManualClock, blocking: BlockingPublisher) -> Ingestor:
    validator = ReadingValidator(registry, clock=clock)
    return Ingestor(validator=validator, publisher=blocking, consumer="test", clock=clock)
