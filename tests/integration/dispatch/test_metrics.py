"""A real dispatch worker (under LocalSystem) serves /metrics and /healthz, and its counters
move when a call is processed and when a malformed record is dead-lettered."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from gt_testing import wait_until

from goldentime import topics
from goldentime.broker.clients import kafka_publisher
from goldentime.broker.publisher import BlockingPublisher
from goldentime.metrics import METRICS_PORT_ENV
from goldentime.procutil import free_port
from goldentime.settings import load_settings
from ops.up import LocalSystem

pytestmark = pytest.mark.integration

MAPO_GU_OFFICE = (37.56630, 126.90190)


@pytest.fixture(scope="module")
def instrumented(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalSystem, str]]:
    data_dir: Path = tmp_path_factory.mktemp("metrics")
    settings = load_settings(
        data={"dir": data_dir}, console={"port": 0, "auth": "demo"}, logging={"level": "info"}
    )
    system = LocalSystem(settings, workers=1, echo=lambda _line: None)
    port = free_port()
    system.env[METRICS_PORT_ENV] = str(port)
    system.start()
    try:
        yield system, f"http://127.0.0.1:{port}"
    finally:
        system.stop()


def sample(text: str, name: str, **labels: str) -> float:
    """One sample of the Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if not match or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[2] or ""))
        if found == labels:
            return float(match[3])
    return 0.0


def test_worker_metrics_move_after_a_call_and_a_dead_letter(
    instrumented: tuple[LocalSystem, str],
) -> None:
    system, metrics_url = instrumented
    with httpx.Client(timeout=5) as client:
        assert wait_until(
            lambda: client.get(f"{metrics_url}/healthz").status_code == 200, timeout_s=20
        )
        before = client.get(f"{metrics_url}/metrics").text
        stored = sample(before, "goldentime_events_processed_total", topic="calls", outcome="ok")

        call_id = f"mt-{uuid.uuid4().hex[:10]}"
        response = client.post(
            f"{system.url}/api/calls",
            json={
                "id": call_id,
                "lat": MAPO_GU_OFFICE[0],
                "lon": MAPO_GU_OFFICE[1],
                "type": "building_fire",
                "received_at": datetime.now(UTC).isoformat(),
            },
        )
        assert response.status_code == 202, response.text
        producer = BlockingPublisher(
            kafka_publisher(
                system.settings.updated(  # the embedded broker (Tansu): no idempotence
                    broker={"bootstrap_servers": system.bootstrap, "flavor": "tansu"}
                ),
                client_id="metrics-test",
            )
        )
        try:
            producer.publish(topics.CALLS.name, [(b"bad", b"{not json")])
        finally:
            producer.close()

        def moved() -> str | None:
            text = client.get(f"{metrics_url}/metrics").text
            ok = sample(text, "goldentime_events_processed_total", topic="calls", outcome="ok")
            dead = sample(
                text, "goldentime_dead_letters_total", topic="calls", reason_class="not_json"
            )
            lag = re.search(
                r"^goldentime_consumer_lag\{partition=\"\d+\",topic=\"calls\"\} ", text, re.M
            )  # sampled every LAG_INTERVAL_S, after the intake's first fetch
            return text if ok >= stored + 1 and dead >= 1 and lag else None

        text = wait_until(moved, timeout_s=20)
        assert text, "counters did not move"
    assert sample(text, "goldentime_end_to_end_latency_seconds_count", topic="calls") >= 1
    assert (
        sample(text, "goldentime_events_processed_total", topic="calls", outcome="dead_letter") >= 1
    )
    assert re.search(r"^goldentime_consumer_lag\{partition=\"\d+\",topic=\"calls\"\} ", text, re.M)
    assert sample(text, "process_resident_memory_bytes") > 0
