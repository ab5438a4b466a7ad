"""Prometheus metrics of one Golden Time process, and the HTTP endpoint that serves them.

:class:`Metrics` wraps prometheus-client with the figures an operator watches: events processed
per topic and outcome, consumer lag per partition, end-to-end latency (event time to processed),
dead letters per topic and reason class, and alerts sent per channel and outcome. Each instance
owns its registry, so tests and several apps in one process never collide.

:func:`start_metrics_server` serves ``/metrics`` (Prometheus text format) and ``/healthz``
(200 while the injected health check passes, 503 otherwise) on a background thread.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from goldentime.errors import ConfigError
from goldentime.settings import Settings

log = logging.getLogger(__name__)

METRICS_PORT_ENV = "GOLDENTIME_METRICS_PORT"
NAMESPACE = "goldentime"
# Seconds from event time to processed: a call should be an incident well inside the 2 minutes
# of call taking; the tail buckets show a backlog or a stuck partition.
LAG_INTERVAL_S = 2.0
HEALTH_MAX_AGE_S = 30.0
LATENCY_BUCKETS_S: tuple[float, ...] = (
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
)  # fmt: skip


class MetricsError(ConfigError):
    """The metrics endpoint cannot be configured or started."""


class Outcome(StrEnum):
    """What became of one consumed record."""

    OK = "ok"  # stored / applied and published
    IGNORED = "ignored"  # valid, but nothing to do (e.g. a motion-only video event)
    REFUSED = "refused"  # a valid command the current state does not allow
    DEAD_LETTER = "dead_letter"  # rejected to the dead-letter topic


class ReasonClass(StrEnum):
    """Bounded classes of dead-letter reasons (the free-text reason goes on the topic)."""

    NOT_JSON = "not_json"
    CONTRACT = "contract"  # JSON, but not the record's contract
    PROCESSING = "processing"  # valid, but processing failed after every retry


class AlertOutcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    THROTTLED = "throttled"


def reason_class_of(reason: str) -> ReasonClass:
    """The class of a contract rejection reason from ``goldentime.contracts.decode``."""
    return ReasonClass.NOT_JSON if reason.startswith("not JSON") else ReasonClass.CONTRACT


def _label(name: str, value: str) -> str:
    if not value or not value.strip():
        raise ValueError(f"metric label {name!r} must not be empty")
    return value


@dataclass(frozen=True, slots=True)
class PartitionLag:
    topic: str
    partition: int
    lag: int


def compute_lag(
    positions: Mapping[tuple[str, int], int | None],
    highwaters: Mapping[tuple[str, int], int | None],
) -> list[PartitionLag]:
    """Lag per partition: highwater minus the consumer's position, where both are known.

    Partitions without a position or a highwater yet (no fetch since assignment) are left out
    rather than reported as zero. A position past the highwater (a stale highwater) is 0.
    """
    lags: list[PartitionLag] = []
    for (topic, partition), position in sorted(positions.items()):
        highwater = highwaters.get((topic, partition))
        if position is None or highwater is None:
            continue
        lags.append(PartitionLag(topic, partition, max(0, highwater - position)))
    return lags


class Metrics:
    """The metrics of one process, on its own registry."""

    def __init__(
        self,
        *,
        registry: CollectorRegistry | None = None,
        process_metrics: bool = False,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        if process_metrics:
            ProcessCollector(registry=self.registry)
        self.events_processed = Counter(
            "events_processed",
            "Records consumed and handled, by topic and outcome.",
            ["topic", "outcome"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "consumer_lag",
            "Records behind the partition highwater, per assigned topic partition.",
            ["topic", "partition"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.end_to_end_latency = Histogram(
            "end_to_end_latency_seconds",
            "Event time (call received, video episode start) to processed and published.",
            ["topic"],
            namespace=NAMESPACE,
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "dead_letters",
            "Records sent to the dead-letter topic, by source topic and reason class.",
            ["topic", "reason_class"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.alerts_sent = Counter(
            "alerts_sent",
            "Public-warning deliveries attempted, by channel and outcome.",
            ["channel", "outcome"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self._lag_partitions: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    # --- recording ----------------------------------------------------------------------------
    def record_processed(self, *, topic: str, outcome: Outcome, count: int = 1) -> None:
        if count < 0:
            raise ValueError(f"processed count must be >= 0, got {count}")
        if count:
            self.events_processed.labels(_label("topic", topic), Outcome(outcome).value).inc(count)

    def record_dead_letter(self, *, topic: str, reason_class: ReasonClass) -> None:
        """One record dead-lettered: counts it as processed (dead_letter) and by reason."""
        self.dead_letters.labels(_label("topic", topic), ReasonClass(reason_class).value).inc()
        self.record_processed(topic=topic, outcome=Outcome.DEAD_LETTER)

    def observe_latency(self, *, topic: str, event_time: datetime, now: datetime) -> float:
        """Record event time -> now; a clock ahead of ours counts as 0 s. Returns the seconds."""
        return self.observe_latencies(topic=topic, event_times=[event_time], now=now)[0]

    def observe_latencies(
        self, *, topic: str, event_times: Iterable[datetime], now: datetime
    ) -> list[float]:
        """``observe_latency`` for the records of one topic (one label lookup)."""
        histogram = self.end_to_end_latency.labels(_label("topic", topic))
        seconds = []
        for event_time in event_times:
            if event_time.tzinfo is None or now.tzinfo is None:
                raise ValueError("latency needs timezone-aware event time and now")
            seconds.append(max(0.0, (now - event_time).total_seconds()))
            histogram.observe(seconds[-1])
        return seconds

    def record_alert(self, *, channel: str, outcome: AlertOutcome, count: int = 1) -> None:
        if count < 0:
            raise ValueError(f"alert count must not be negative, got {count}")
        if count:
            self.alerts_sent.labels(_label("channel", channel), AlertOutcome(outcome).value).inc(
                count
            )

    def set_consumer_lag(self, lags: Iterable[PartitionLag]) -> None:
        """Replace the lag gauges: partitions no longer reported (revoked) are removed."""
        fresh: dict[tuple[str, str], int] = {}
        for item in lags:
            if item.lag < 0:
                raise ValueError(f"lag of {item.topic}[{item.partition}] is negative")
            fresh[(_label("topic", item.topic), str(item.partition))] = item.lag
        with self._lock:
            for gone in self._lag_partitions - fresh.keys():
                self.consumer_lag.remove(*gone)
            for key, lag in fresh.items():
                self.consumer_lag.labels(*key).set(lag)
            self._lag_partitions = set(fresh)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


class Heartbeat:
    """Liveness from inside the event loop: healthy while beats are younger than ``max_age_s``.

    Nothing beats before the process is ready, so ``/healthz`` answers 503 until the first beat
    (readiness) and again when the loop stops beating (a stuck worker).
    """

    def __init__(
        self, *, max_age_s: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if not math.isfinite(max_age_s) or max_age_s <= 0:
            raise ValueError(f"heartbeat max age must be > 0 s, got {max_age_s}")
        self.max_age_s = max_age_s
        self._monotonic = monotonic
        self._last: float | None = None

    def beat(self) -> None:
        self._last = self._monotonic()

    def check(self) -> tuple[bool, str]:
        if self._last is None:
            return False, "not ready: no heartbeat yet"
        age = self._monotonic() - self._last
        if age > self.max_age_s:
            return False, f"stale: last heartbeat {age:.1f} s ago (limit {self.max_age_s:.1f} s)"
        return True, f"ok: last heartbeat {age:.1f} s ago"


HealthCheck = Callable[[], tuple[bool, str]]


def _always_healthy() -> tuple[bool, str]:
    return True, "ok"


class MetricsServer:
    """A running metrics endpoint; ``close()`` stops it."""

    def __init__(self, httpd: ThreadingHTTPServer, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = self._httpd.server_address[0]
        return f"http://{host!s}:{self.port}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler(metrics: Metrics, health: HealthCheck) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, metrics.exposition())
            elif path == "/healthz":
                try:
                    ok, detail = health()
                except Exception as err:  # a failing check is an unhealthy process
                    ok, detail = False, f"health check failed: {type(err).__name__}: {err}"
                self._send(200 if ok else 503, "text/plain; charset=utf-8", detail.encode())
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found: /metrics, /healthz\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("metrics endpoint: " + format, *args)

    return Handler


def start_metrics_server(
    port: int,
    *,
    metrics: Metrics,
    health: HealthCheck = _always_healthy,
    host: str = "0.0.0.0",  # scraped from other hosts and pods
) -> MetricsServer:
    """Serve ``/metrics`` and ``/healthz`` on ``host:port`` (0: a free port) in a thread."""
    if not 0 <= port <= 65535:
        raise MetricsError(f"metrics port must be 0..65535, got {port}")
    try:
        httpd = ThreadingHTTPServer((host, port), _handler(metrics, health))
    except OSError as err:
        raise MetricsError(f"cannot serve metrics on {host}:{port}: {err}") from err
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="metrics-http", daemon=True)
    thread.start()
    server = MetricsServer(httpd, thread)
    log.info("metrics on %s/metrics, health on %s/healthz", server.url, server.url)
    return server


def configured_port(settings: Settings) -> int | None:
    """The metrics port: ``settings.process.metrics_port`` (env GOLDENTIME_METRICS_PORT, checked
    by the settings model).

    Returns None when metrics are not configured (the process serves no endpoint).
    """
    return settings.process.metrics_port


OffsetsSource = Callable[
    [], Awaitable[tuple[Mapping[tuple[str, int], int | None], Mapping[tuple[str, int], int | None]]]
]


def watch_faust_consumer(
    app: Any,
    *,
    metrics: Metrics,
    heartbeat: Heartbeat,
    interval_s: float = LAG_INTERVAL_S,
    other_consumers: Sequence[OffsetsSource] = (),
) -> None:
    """Add a timer to a faust ``app``: lag per assigned partition, then a heartbeat beat.

    The lag is the partition highwater (from the consumer's last fetch) minus the consumer's
    position. On the embedded Tansu broker the highwater is unreliable (NOTES.md); on Kafka it
    is exact. The beat comes from the event loop, so a stuck loop turns ``/healthz`` to 503.
    ``other_consumers`` report (positions, highwaters) of consumers the app runs besides its
    own (the dispatch worker's batch intake of calls).
    """

    async def consumer_lag() -> None:
        consumer = app.consumer
        positions: dict[tuple[str, int], int | None] = {}
        highwaters: dict[tuple[str, int], int | None] = {}
        try:
            assigned = consumer.assignment()
        except Exception as err:  # consumer not started yet: nothing assigned
            log.debug("no assignment for lag yet: %s", err)
            assigned = set()
        for tp in assigned:
            key = (tp.topic, tp.partition)
            try:
                positions[key] = await consumer.position(tp)
                highwaters[key] = consumer.highwater(tp)
            except Exception as err:  # revoked mid-round or not fetched yet: skip it
                log.debug("no lag for %s[%d]: %s", tp.topic, tp.partition, err)
        for source in other_consumers:
            more_positions, more_highwaters = await source()
            positions.update(more_positions)
            highwaters.update(more_highwaters)
        metrics.set_consumer_lag(compute_lag(positions, highwaters))
        heartbeat.beat()

    app.timer(interval_s)(consumer_lag)


def serve_faust_metrics(
    app: Any, *, settings: Settings, metrics: Metrics, other_consumers: Sequence[OffsetsSource] = ()
) -> MetricsServer | None:
    """For a faust worker: when a metrics port is configured, watch the consumer and serve.

    Returns the running server (close it at shutdown), or None when no port is configured.
    """
    port = configured_port(settings)
    if port is None:
        return None
    heartbeat = Heartbeat(max_age_s=HEALTH_MAX_AGE_S)
    watch_faust_consumer(app, metrics=metrics, heartbeat=heartbeat, other_consumers=other_consumers)
    return start_metrics_server(port, metrics=metrics, health=heartbeat.check)
