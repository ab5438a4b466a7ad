"""The sensors' HTTP batch ingest (``POST /api/sensors/readings``) served by the console.

Sensor gateways post batches with an API token (control-room roles); valid readings go to
``sensor.readings`` through the console's blocking publisher (its producer starts on the first
reading, so a console without a broker still starts and answers 503 for readings until the
broker is there).
"""

from __future__ import annotations

from fastapi import FastAPI

from goldentime.broker.publisher import BlockingPublisher
from goldentime.clock import Clock
from goldentime.settings import Settings
from sensors.api import readings_router
from sensors.ingest import Ingestor, ReadingValidator
from sensors.registry import load_registry

READINGS_PER_MESSAGE = 100


def mount_sensor_ingest(
    app: FastAPI,
    *,
    settings: Settings,
    clock: Clock,
    publisher: BlockingPublisher,
) -> None:
    """Add ``POST /api/sensors/readings`` to the console."""
    ingestor = Ingestor(
        validator=ReadingValidator(load_registry(settings.data.seoul_dir), clock=clock),
        publisher=publisher,
        consumer="console",
        clock=clock,
        pack=READINGS_PER_MESSAGE,
    )
    app.include_router(readings_router(ingestor=ingestor))
