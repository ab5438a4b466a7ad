"""Fixtures: the embedded Kafka-protocol broker with the sensor topics, a real mosquitto on a
free loopback port, and a sensors worker process (the real faust agent)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from goldentime.broker import EmbeddedBroker, ensure_topics
from goldentime.broker.clients import kafka_publisher
from goldentime.broker.publisher import BlockingPublisher
from goldentime.clock import SystemClock
from goldentime.contracts.sensors import SENSOR_ALARMS
from goldentime.procutil import free_port, port_open
from goldentime.settings import Settings, load_settings
from goldentime.topics import ALL_TOPICS
from sensors.ingest import Ingestor, ReadingValidator
from sensors.registry import SensorRegistry, load_registry

WORKER_CODE = (
    "from goldentime.settings import load_settings; from sensors.worker import run; "
    "run(load_settings())"
)


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as running:
        ensure_topics(
            running.bootstrap_servers,
            partitions=4,
            replication_factor=1,
            topics=(*ALL_TOPICS, SENSOR_ALARMS),
        )
        yield running


@pytest.fixture(scope="module")
def settings(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(
        broker={"bootstrap_servers": broker.bootstrap_servers, "flavor": "tansu"},
        data={"dir": tmp_path_factory.mktemp("sensors")},
        process={"app_id": f"it-{uuid.uuid4().hex[:8]}"},
        logging={"level": "warning"},
    )


@pytest.fixture(scope="module")
def registry(settings: Settings) -> SensorRegistry:
    return load_registry(settings.data.seoul_dir)


@pytest.fixture
def ingestor(settings: Settings, registry: SensorRegistry) -> Iterator[Ingestor]:
    clock = SystemClock()
    publisher = BlockingPublisher(kafka_publisher(settings, client_id="it-sensors"))
    yield Ingestor(
        validator=ReadingValidator(registry, clock=clock),
        publisher=publisher,
        consumer="sensors.test",
        clock=clock,
    )
    publisher.close()


@pytest.fixture
def mosquitto_port(tmp_path: Path) -> Iterator[int]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        pytest.fail("mosquitto is not installed: apt-get install -y mosquitto")
    port = free_port()
    log = (tmp_path / "mosquitto.log").open("wb")
    proc = subprocess.Popen([binary, "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", port):
            assert proc.poll() is None, (
                f"mosquitto exited: {(tmp_path / 'mosquitto.log').read_text()}"
            )
            assert time.monotonic() < deadline, "mosquitto did not listen within 10 s"
            time.sleep(0.02)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def worker(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One sensors worker process (own consumer group); yields its log file."""
    log_path = tmp_path_factory.mktemp("worker") / "sensors-worker.log"
    env = os.environ | {
        "KAFKA_BOOTSTRAP_SERVERS": settings.broker.bootstrap(),
        "GOLDENTIME_BROKER_FLAVOR": "tansu",
        "GOLDENTIME_APP_ID": settings.process.app_id,
        "GOLDENTIME_DATA_DIR": str(settings.data.dir),
        "GOLDENTIME_LOG_LEVEL": "warning",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER_CODE], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield log_path
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
