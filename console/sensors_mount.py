"""The sensors' HTTP batch ingest (``POST /api/sensors/readings``) served by the console.

Sensor gateways post batches with an API token (control-room roles); valid readings go to
``sensor.readings`` through a kafka-python producer made on first use, so a console without a
broker still starts (and answers 503 for readings until the broker is there).
"""

from __future__ import annotations

import threading

from fastapi import FastAPI

from goldentime.clock import Clock
from goldentime.settings import Settings
from sensors.api import readings_router
from sensors.ingest import Ingestor, KafkaPublisher, Publisher, ReadingValidator
from sensors.registry import load_registry

READINGS_PER_MESSAGE = 100


class LazyKafkaPublisher:
    """A sensors Publisher whose Kafka producer is created on the first reading."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._inner: KafkaPublisher | None = None
        self._lock = threading.Lock()

    def _publisher(self) -> KafkaPublisher:
        with self._lock:
            if self._inner is None:
                self._inner = KafkaPublisher.from_settings(
                    self._settings, client_id="goldentime-console-sensors"
                )
            return self._inner

    def publish(self, topic: str, *, key: bytes, value: bytes) -> None:
        self._publisher().publish(topic, key=key, value=value)

    def flush(self, *, timeout_s: float) -> None:
        self._publisher().flush(timeout_s=timeout_s)


def mount_sensor_ingest(
    app: FastAPI,
    *,
    settings: Settings,
    clock: Clock,
    publisher: Publisher | None = None,
) -> None:
    """Add ``POST /api/sensors/readings`` to the console."""
    ingestor = Ingestor(
        validator=ReadingValidator(load_registry(settings.data.seoul_dir), clock=clock),
        publisher=publisher or LazyKafkaPublisher(settings),
        consumer="console",
        clock=clock,
        pack=READINGS_PER_MESSAGE,
    )
    app.include_router(readings_router(ingestor=ingestor))
