"""goldentime.metrics: counters, lag, latency, the health heartbeat and the HTTP endpoint."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from goldentime.errors import ConfigError
from goldentime.metrics import (
    METRICS_PORT_ENV,
    AlertOutcome,
    Heartbeat,
    Metrics,
    MetricsError,
    Outcome,
    PartitionLag,
    ReasonClass,
    compute_lag,
    configured_port,
    reason_class_of,
    start_metrics_server,
)
from goldentime.settings import load_settings

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(f"goldentime_{name}", labels)


def test_processed_counts_by_topic_and_outcome() -> None:
    metrics = Metrics()
    metrics.record_processed(topic="calls", outcome=Outcome.OK, count=3)
    metrics.record_processed(topic="calls", outcome=Outcome.OK)
    metrics.record_processed(topic="video.events", outcome=Outcome.IGNORED, count=0)
    assert sample(metrics, "events_processed_total", topic="calls", outcome="ok") == 4
    assert (
        sample(metrics, "events_processed_total", topic="video.events", outcome="ignored") is None
    )


def test_bad_counts_and_labels_are_refused() -> None:
    metrics = Metrics()
    with pytest.raises(ValueError, match=">= 0"):
        metrics.record_processed(topic="calls", outcome=Outcome.OK, count=-1)
    with pytest.raises(ValueError, match="topic"):
        metrics.record_processed(topic=" ", outcome=Outcome.OK)
    with pytest.raises(ValueError):
        metrics.record_processed(topic="calls", outcome="exploded")  # type: ignore[arg-type]


def test_dead_letter_counts_by_reason_class_and_as_processed() -> None:
    metrics = Metrics()
    metrics.record_dead_letter(topic="calls", reason_class=reason_class_of("not JSON: bad"))
    metrics.record_dead_letter(topic="calls", reason_class=reason_class_of("lat: too large"))
    metrics.record_dead_letter(topic="calls", reason_class=ReasonClass.PROCESSING)
    for reason in ("not_json", "contract", "processing"):
        assert sample(metrics, "dead_letters_total", topic="calls", reason_class=reason) == 1
    assert sample(metrics, "events_processed_total", topic="calls", outcome="dead_letter") == 3


def test_latency_is_event_time_to_now_and_a_clock_ahead_counts_zero() -> None:
    metrics = Metrics()
    seconds = metrics.observe_latency(topic="calls", event_time=T0, now=T0 + timedelta(seconds=3))
    assert seconds == 3.0
    ahead = metrics.observe_latency(topic="calls", event_time=T0 + timedelta(seconds=5), now=T0)
    assert ahead == 0.0
    assert sample(metrics, "end_to_end_latency_seconds_count", topic="calls") == 2
    assert sample(metrics, "end_to_end_latency_seconds_sum", topic="calls") == 3.0
    assert sample(metrics, "end_to_end_latency_seconds_bucket", topic="calls", le="2.5") == 1
    with pytest.raises(ValueError, match="timezone"):
        metrics.observe_latency(topic="calls", event_time=T0.replace(tzinfo=None), now=T0)


def test_latencies_of_a_batch_count_like_one_by_one() -> None:
    metrics = Metrics()
    times = [T0, T0 + timedelta(seconds=5)]
    metrics.observe_latencies(topic="calls", event_times=times, now=T0 + timedelta(seconds=3))
    assert sample(metrics, "end_to_end_latency_seconds_count", topic="calls") == 2
    assert sample(metrics, "end_to_end_latency_seconds_sum", topic="calls") == 3.0
    with pytest.raises(ValueError, match="timezone"):
        metrics.observe_latencies(topic="calls", event_times=[T0.replace(tzinfo=None)], now=T0)


def test_alerts_count_by_channel_and_outcome() -> None:
    metrics = Metrics()
    metrics.record_alert(channel="sms", outcome=AlertOutcome.SENT)
    metrics.record_alert(channel="sms", outcome=AlertOutcome.FAILED)
    assert sample(metrics, "alerts_sent_total", channel="sms", outcome="sent") == 1
    assert sample(metrics, "alerts_sent_total", channel="sms", outcome="failed") == 1


def test_lag_is_highwater_minus_position_where_both_are_known() -> None:
    lags = compute_lag(
        {("calls", 0): 10, ("calls", 1): 7, ("calls", 2): None, ("commands", 0): 5},
        {("calls", 0): 25, ("calls", 1): 5, ("calls", 2): 9},
    )
    assert lags == [PartitionLag("calls", 0, 15), PartitionLag("calls", 1, 0)]


def test_lag_gauges_follow_the_assignment() -> None:
    metrics = Metrics()
    metrics.set_consumer_lag([PartitionLag("calls", 0, 15), PartitionLag("calls", 1, 2)])
    assert sample(metrics, "consumer_lag", topic="calls", partition="0") == 15
    metrics.set_consumer_lag([PartitionLag("calls", 1, 0)])  # partition 0 revoked
    assert sample(metrics, "consumer_lag", topic="calls", partition="0") is None
    assert sample(metrics, "consumer_lag", topic="calls", partition="1") == 0
    with pytest.raises(ValueError, match="negative"):
        metrics.set_consumer_lag([PartitionLag("calls", 1, -1)])


def test_heartbeat_is_not_ready_before_the_first_beat_and_goes_stale() -> None:
    now = [100.0]
    heartbeat = Heartbeat(max_age_s=30, monotonic=lambda: now[0])
    assert heartbeat.check()[0] is False
    heartbeat.beat()
    now[0] += 29
    assert heartbeat.check() == (True, "ok: last heartbeat 29.0 s ago")
    now[0] += 2
    ok, detail = heartbeat.check()
    assert not ok and "31.0 s ago" in detail
    with pytest.raises(ValueError):
        Heartbeat(max_age_s=0)


def test_endpoint_serves_metrics_health_and_404() -> None:
    metrics = Metrics(process_metrics=True)
    metrics.record_processed(topic="calls", outcome=Outcome.OK, count=2)
    healthy = [False]
    server = start_metrics_server(
        0,
        metrics=metrics,
        health=lambda: (healthy[0], "fine" if healthy[0] else "stuck"),
        host="127.0.0.1",
    )
    try:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            page = client.get("/metrics")
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/plain")
            assert 'goldentime_events_processed_total{outcome="ok",topic="calls"} 2.0' in page.text
            assert "process_resident_memory_bytes" in page.text
            assert client.get("/healthz").status_code == 503
            healthy[0] = True
            ok = client.get("/healthz")
            assert ok.status_code == 200 and ok.text == "fine"
            assert client.get("/other").status_code == 404
    finally:
        server.close()


def test_a_failing_health_check_is_503_not_a_crash() -> None:
    def broken() -> tuple[bool, str]:
        raise RuntimeError("database gone")

    server = start_metrics_server(0, metrics=Metrics(), health=broken, host="127.0.0.1")
    try:
        response = httpx.get(f"{server.url}/healthz", timeout=5)
        assert response.status_code == 503 and "database gone" in response.text
    finally:
        server.close()


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MetricsError, match=re.escape(f"127.0.0.1:{port}")):
            start_metrics_server(port, metrics=Metrics(), host="127.0.0.1")
    with pytest.raises(MetricsError, match=re.escape("0..65535")):
        start_metrics_server(70000, metrics=Metrics())


def test_port_comes_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(METRICS_PORT_ENV, raising=False)
    assert configured_port(load_settings(data={"dir": tmp_path})) is None
    assert (
        configured_port(load_settings(data={"dir": tmp_path}, process={"metrics_port": 9100}))
        == 9100
    )
    monkeypatch.setenv(METRICS_PORT_ENV, " 9200 ")
    assert configured_port(load_settings(data={"dir": tmp_path})) == 9200
    monkeypatch.setenv(METRICS_PORT_ENV, "ninety")
    with pytest.raises(ConfigError, match=METRICS_PORT_ENV):
        load_settings(data={"dir": tmp_path})
    monkeypatch.setenv(METRICS_PORT_ENV, "99999")
    with pytest.raises(ConfigError, match=METRICS_PORT_ENV):
        load_settings(data={"dir": tmp_path})
