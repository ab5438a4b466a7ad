"""`goldentime bench dispatch`: call-to-recommendation latency and intake throughput.

Everything runs on one embedded Tansu broker started by :class:`ops.up.LocalSystem`.

Everything runs on the configured road network (Seoul-wide by default) with every unit of it
(438 vehicles at 176 stations on the Seoul network), and the calls fall all over the city
(inside the 25 gu, 강동구 included).

1. Latency: calls are POSTed to the console (the real intake path) at 10 calls/s steady and as
   a 100 calls/s burst; a consumer reads the ``incidents`` and ``recommendations`` topics and a
   call's latency ends when the first recommendation for its incident at or after the
   revision that includes the call arrives. Calls come from the seeded replay (so some attach
   to an open incident, as duplicates do), stamped with the time they are posted.
2. Throughput: the system's worker and console are stopped, N replay calls are pre-loaded on
   ``calls``, and a fresh intake worker (own consumer group and SQLite database, recommender
   task off) consumes them; events/s from its first stored row to its last.
3. Baseline: a plain faust agent (own consumer group) that only decodes the same records.
"""

from __future__ import annotations

import json
import multiprocessing
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import httpx
import orjson
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sqlalchemy import func, select

from bench import _dispatch_workers
from bench._stats import percentile
from dispatch.cells import cell_of
from dispatch.context import gu_locator
from dispatch.incident_store import CallRow
from dispatch.replay import SEOUL, generate_replay
from goldentime.contracts import Call, encode
from goldentime.db import create_schema, make_engine
from goldentime.settings import load_settings
from ops.up import LocalSystem

STEADY_RATE, STEADY_S = 10.0, 15.0
BURST_RATE, BURST_S = 100.0, 2.0
SETTLE_S = 5.0
WORKER_TIMEOUT_S = 90.0  # to store (or decode) every pre-loaded call, from the first one
# A fresh worker's start (imports, the city network, the fleet, joining the group) is not
# measured; on a loaded shared machine it can take minutes.
WORKER_START_TIMEOUT_S = 300.0
POSTED_FIELDS = {"id", "lat", "lon", "type", "caller", "description"}


@dataclass
class TopicWatcher:
    """Reads ``incidents`` and ``recommendations`` in a thread, stamping each arrival."""

    bootstrap: str
    incidents: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    recommendations: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> TopicWatcher:
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, fetch_max_wait_ms=10
        )
        tps = [
            TopicPartition(name, p)
            for name in ("incidents", "recommendations")
            for p in consumer.partitions_for_topic(name) or ()
        ]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)

        def loop() -> None:
            while not self._stop.is_set():
                for tp, batch in consumer.poll(timeout_ms=20).items():
                    now = time.monotonic()
                    sink = self.incidents if tp.topic == "incidents" else self.recommendations
                    sink.extend((now, orjson.loads(r.value)) for r in batch)
            consumer.close()

        self._thread = threading.Thread(target=loop, name="bench-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def latencies_ms(self, sent: dict[str, float]) -> list[float]:
        """Per call: sent -> first recommendation covering the incident revision with it."""
        first_seen: dict[str, tuple[str, int]] = {}
        for _at, incident in self.incidents:
            for call_id in incident["call_ids"]:
                if call_id in sent and call_id not in first_seen:
                    first_seen[call_id] = (incident["id"], incident["revision"])
        out = []
        for call_id, t0 in sent.items():
            if call_id not in first_seen:
                continue
            incident_id, revision = first_seen[call_id]
            arrivals = [
                at
                for at, rec in self.recommendations
                if rec["incident_id"] == incident_id and rec["incident_revision"] >= revision
            ]
            if arrivals:
                out.append((min(arrivals) - t0) * 1e3)
        return out


def _post_calls(url: str, calls: list[Call], rate: float) -> dict[str, float]:
    sent: dict[str, float] = {}
    interval = 1.0 / rate
    with httpx.Client(base_url=url, timeout=10) as client:
        start = time.monotonic()
        for i, call in enumerate(calls):
            time.sleep(max(0.0, start + i * interval - time.monotonic()))
            body = call.model_dump(mode="json", include=POSTED_FIELDS)
            body["received_at"] = datetime.now(UTC).isoformat()
            t0 = time.monotonic()
            response = client.post("/api/calls", json=body)
            if response.status_code != 202:
                raise click.ClickException(f"POST /api/calls: {response.status_code}")
            sent[call.id] = t0
    return sent


def _figures(samples: list[float], sent: int, rate: float) -> dict[str, float]:
    return {
        "p50": round(percentile(samples, 0.5), 1),
        "p99": round(percentile(samples, 0.99), 1),
        "max": round(max(samples), 1),
        "rate_per_s": rate,
        "calls": sent,
        "measured": len(samples),
    }


def _city_replay(n: int, *, seed: int, prefix: str, data_dir: Path) -> list[Call]:
    """Replay calls all over Seoul (inside the 25 gu), like the city network's real load."""
    locate = gu_locator(data_dir)
    return generate_replay(
        n, seed=seed, prefix=prefix, box=SEOUL, within=lambda lat, lon: locate(lat, lon) is not None
    ).calls


def _latency(system: LocalSystem) -> dict[str, dict[str, float]]:
    watcher = TopicWatcher(system.bootstrap).start()
    data = system.settings.data.seoul_dir
    steady = _city_replay(int(STEADY_RATE * STEADY_S), seed=10, prefix="lat10", data_dir=data)
    burst = _city_replay(int(BURST_RATE * BURST_S), seed=100, prefix="lat100", data_dir=data)
    try:
        sent_steady = _post_calls(system.url, steady, STEADY_RATE)
        time.sleep(SETTLE_S)
        sent_burst = _post_calls(system.url, burst, BURST_RATE)
        time.sleep(SETTLE_S)
    finally:
        watcher.stop()
    return {
        "steady": _figures(watcher.latencies_ms(sent_steady), len(steady), STEADY_RATE),
        "burst": _figures(watcher.latencies_ms(sent_burst), len(burst), BURST_RATE),
    }


def _preload(bootstrap: str, calls: list[Call]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    for call in calls:
        producer.send("calls", key=cell_of(call.lat, call.lon).encode(), value=encode(call))
    producer.flush(timeout=60)
    producer.close()


def _intake_rate(env: dict[str, str], db_url: str, total: int) -> float:
    engine = make_engine(db_url)
    create_schema(engine)
    spawn = multiprocessing.get_context("spawn")
    child = spawn.Process(target=_dispatch_workers.run_intake, args=(env,), daemon=True)
    child.start()
    try:
        first: tuple[float, int] | None = None
        deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                n = int(conn.execute(select(func.count()).select_from(CallRow)).scalar_one())
            now = time.monotonic()
            if n and first is None:
                first = (now, n)
                deadline = now + WORKER_TIMEOUT_S
            if n >= total and first is not None:
                return (n - first[1]) / max(now - first[0], 1e-9)
            time.sleep(0.01)
        raise click.ClickException(f"intake worker did not store {total} calls in time")
    finally:
        child.terminate()
        child.join(timeout=15)
        engine.dispose()


def _baseline_rate(env: dict[str, str], total: int) -> float:
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    child = spawn.Process(
        target=_dispatch_workers.run_decode_baseline, args=(env, total, results), daemon=True
    )
    child.start()
    try:
        events, seconds = results.get(timeout=WORKER_START_TIMEOUT_S + WORKER_TIMEOUT_S)
        return float(events) / max(float(seconds), 1e-9)
    finally:
        child.terminate()
        child.join(timeout=15)


def _throughput(system: LocalSystem, data_dir: Path, n: int) -> dict[str, float]:
    system.supervisor.stop_all()  # the broker stays up; nobody else consumes now
    data = system.settings.data.seoul_dir
    _preload(system.bootstrap, _city_replay(n, seed=4, prefix="tp", data_dir=data))
    on_topic = n + int(STEADY_RATE * STEADY_S) + int(BURST_RATE * BURST_S)
    base_env = {
        "KAFKA_BOOTSTRAP_SERVERS": system.bootstrap,
        "GOLDENTIME_BROKER_FLAVOR": "tansu",
        "GOLDENTIME_DATA_DIR": str(data_dir),
        "GOLDENTIME_LOG_LEVEL": "warning",
    }
    db_url = f"sqlite:///{data_dir / 'throughput.db'}"
    intake = _intake_rate(
        base_env | {"DATABASE_URL": db_url, "GOLDENTIME_APP_ID": f"bench-{uuid.uuid4().hex[:6]}"},
        db_url,
        on_topic,
    )
    baseline = _baseline_rate(
        base_env
        | {
            "DATABASE_URL": f"sqlite:///{data_dir / 'baseline.db'}",
            "GOLDENTIME_APP_ID": f"bench-{uuid.uuid4().hex[:6]}",
        },
        on_topic,
    )
    return {"events": on_topic, "intake": intake, "baseline": baseline}


@click.command("dispatch")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--events", default=20_000, show_default=True, help="Calls pre-loaded.")
def command(as_json: bool, events: int) -> None:
    """Call-to-recommendation latency (10/s, 100/s burst) and intake events/s per worker."""
    with tempfile.TemporaryDirectory(prefix="gt-bench-dispatch-") as tmp:
        data_dir = Path(tmp)
        settings = load_settings(
            data={"dir": data_dir}, console={"port": 0}, logging={"level": "warning"}
        )
        system = LocalSystem(settings, echo=lambda _line: None)
        system.env["GOLDENTIME_AUTH"] = "demo"  # the console's sign-in is not what is measured
        with system:
            latency = _latency(system)
            throughput = _throughput(system, data_dir, events)
    steady, burst = latency["steady"], latency["burst"]
    result = {
        "call_to_recommendation_ms": steady,
        "call_to_recommendation_burst_ms": burst,
        "events_per_s_per_worker": round(throughput["intake"], 1),
        "baseline_events_per_s": round(throughput["baseline"], 1),
        "intake_vs_baseline": round(throughput["intake"] / throughput["baseline"], 3),
        "throughput_events": throughput["events"],
        "reach": {"p99_ms": 150, "events_per_s_per_worker": 10_000},
    }
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(
        f"call -> recommendation at {steady['rate_per_s']:.0f}/s: p50 {steady['p50']} ms, "
        f"p99 {steady['p99']} ms ({steady['measured']}/{steady['calls']} calls; reach p99 <= 150)"
    )
    click.echo(
        f"call -> recommendation burst {burst['rate_per_s']:.0f}/s: p50 {burst['p50']} ms, "
        f"p99 {burst['p99']} ms ({burst['measured']}/{burst['calls']} calls)"
    )
    click.echo(
        f"intake (correlate + store) {result['events_per_s_per_worker']:.0f} events/s per worker"
        f" vs plain faust agent (decode only) {result['baseline_events_per_s']:.0f} events/s "
        f"(ratio {result['intake_vs_baseline']}; reach >= 10000)"
    )
