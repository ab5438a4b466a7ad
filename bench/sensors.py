"""`goldentime bench sensors`: readings/s per worker through the rules, and alarm latency.

Everything runs on one embedded Tansu broker with the real faust agent (`sensors.agents`):

1. Throughput: N seeded readings over every registered sensor (noise around normal values,
   some crossings) are pre-loaded on ``sensor.readings``; a fresh worker process (own
   consumer group) runs the rules; readings/s from the end of its first batch to the N-th.
2. Latency: the same worker stays up; deck accelerometers get readings at a steady rate, of
   which every third crosses a level (watch 20 gal, critical 50 gal); an alarm's latency
   runs from sending the reading that decided it to the alarm's arrival on ``sensor.alarms``.
   (Reading to *alarm*: the incident is opened by dispatch, not measured here.)
3. Baseline: a plain faust agent (own group, same batching) that only decodes the readings.
4. Reading to incident, through the real system (:class:`ops.up.LocalSystem`: its own
   embedded broker, the dispatch worker and the console, plus a sensors worker child): each
   round sends a normal reading, then one that crosses the critical level (50 gal) on the
   deck accelerometer of a different bridge, and times from sending the crossing reading to
   ``GET /api/incidents`` listing an incident whose ``event_ids`` hold that alarm's signal.
   A first round (not counted) proves the whole path is up.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import random
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any, cast

import click
import faust
import httpx
import orjson
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from bench._stats import percentile, stdout_to_stderr
from dispatch.structure_alarms import short_id
from goldentime import topics
from goldentime.broker import EmbeddedBroker, ensure_topics
from goldentime.broker.faust_app import create_app
from goldentime.contracts.sensors import (
    SENSOR_ALARMS,
    UNITS,
    SensorKind,
    SensorReading,
    encode_readings,
)
from goldentime.db import create_schema, engine_for
from goldentime.settings import load_settings
from ops.supervisor import ChildSpec, python_argv
from ops.up import LocalSystem
from sensors.agents import BATCH_MAX, BATCH_WITHIN_S, build_context, decode_message, register
from sensors.registry import load_registry
from sensors.worker import run_app

WORKER_TIMEOUT_S = 120.0
LATENCY_RATE, LATENCY_S = 200.0, 10.0
NORMAL = {
    SensorKind.WATER_LEVEL: (4.0, 0.6),
    SensorKind.ACCELERATION: (3.0, 4.0),
    SensorKind.WIND: (7.0, 3.5),
    SensorKind.DISPLACEMENT: (5.0, 3.0),
    SensorKind.CO: (20.0, 15.0),
    SensorKind.SMOKE: (0.002, 0.0015),
    SensorKind.TEMPERATURE: (25.0, 3.0),
    SensorKind.STRAIN: (50.0, 20.0),
}


def _reading(
    sensor_id: str, structure_id: str, kind: SensorKind, value: float, at: datetime
) -> SensorReading:
    return SensorReading(
        id=f"{sensor_id}:{int(at.timestamp() * 1000)}",
        structure_id=structure_id,
        sensor_id=sensor_id,
        kind=kind,
        value=value,
        unit=UNITS[kind],
        measured_at=at,
    )


def generate_load(total: int, *, seed: int, end: datetime) -> list[SensorReading]:
    """``total`` readings round-robin over every sensor, 5 s apart per sensor, ending at ``end``."""
    rng = random.Random(seed)
    sensors = list(load_registry(load_settings().data.seoul_dir).sensors())
    rounds = -(-total // len(sensors))
    start = end - timedelta(seconds=5 * rounds)
    out = []
    for i in range(total):
        spec = sensors[i % len(sensors)]
        mean, sd = NORMAL[spec.kind]
        at = start + timedelta(seconds=5 * (i // len(sensors)), milliseconds=i % len(sensors))
        value = rng.gauss(mean, sd)
        if spec.kind is not SensorKind.ACCELERATION:
            value = max(0.0, value)
        out.append(_reading(spec.sensor_id, spec.structure_id, spec.kind, round(value, 4), at))
    return out


def _env(bootstrap: str, data_dir: Path) -> dict[str, str]:
    """A worker's environment: the bench broker, and ``data_dir`` for its database (the
    alarms' intake outbox; see :func:`_worker_database`), never the checkout's default."""
    return {
        "GOLDENTIME_DATA_DIR": str(data_dir),
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "GOLDENTIME_BROKER_FLAVOR": "tansu",
        "GOLDENTIME_APP_ID": f"bench-sensors-{uuid.uuid4().hex[:6]}",
        "GOLDENTIME_LOG_LEVEL": "warning",
    }


class _Meter:
    """Reports (events after the first batch, seconds) once ``total`` events were handled."""

    def __init__(self, total: int, results: Queue[Any]) -> None:
        self.total, self.results = total, results
        self.seen, self.first = 0, (0, 0.0)

    def __call__(self, n: int) -> None:
        self.seen += n
        if self.first == (0, 0.0):
            self.first = (self.seen, time.monotonic())
        elif self.seen >= self.total > 0:
            self.results.put((self.seen - self.first[0], time.monotonic() - self.first[1]))
            self.total = 0


def _quiet_stdout() -> None:
    """Keep the worker's terminal codes off the parent's stdout (``--json`` is parsed)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def run_rules_worker(env: dict[str, str], total: int, results: Queue[Any]) -> None:
    """The real sensors agent; reports its rate once ``total`` readings went through."""
    stdout_to_stderr()
    _quiet_stdout()
    os.environ.update(env)
    settings = load_settings()
    ctx = build_context(settings)
    ctx.on_batch = _Meter(total, results)
    app = create_app(settings)
    register(app, ctx)
    run_app(app, loglevel="WARNING")


def run_decode_baseline(env: dict[str, str], total: int, results: Queue[Any]) -> None:
    """A plain faust agent on the same topic that only decodes each reading."""
    stdout_to_stderr()
    _quiet_stdout()
    os.environ.update(env)
    app = create_app(load_settings())
    meter = _Meter(total, results)
    readings = app.topic(topics.SENSOR_READINGS.name, key_serializer="raw", value_serializer="raw")

    @app.agent(readings, name="bench.decode")
    async def decode_only(stream: faust.StreamT[Any]) -> AsyncIterator[None]:
        async for events in cast(faust.Stream[Any], stream).take_events(
            BATCH_MAX, within=BATCH_WITHIN_S
        ):
            meter(sum(len(decode_message(event.value)) for event in events))
            yield None

    run_app(app, loglevel="WARNING")


def _preload(bootstrap: str, readings: list[SensorReading], *, pack: int) -> None:
    """Publish like the ingest adapters do: ``pack`` readings of a structure per message."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks=1, linger_ms=20, batch_size=512 * 1024
    )
    packs: dict[str, list[SensorReading]] = {}

    def send(group: list[SensorReading]) -> None:
        key = group[0].structure_id.encode()
        producer.send(topics.SENSOR_READINGS.name, key=key, value=encode_readings(group))

    for r in readings:
        group = packs.setdefault(r.structure_id, [])
        group.append(r)
        if len(group) >= pack:
            send(packs.pop(r.structure_id))
    for group in packs.values():
        send(group)
    producer.flush(timeout=120)
    producer.close()


class AlarmWatcher:
    """Reads ``sensor.alarms`` in a thread, stamping each arrival (monotonic)."""

    def __init__(self, bootstrap: str) -> None:
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        self._stop = threading.Event()
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, fetch_max_wait_ms=10)
        partitions = consumer.partitions_for_topic(SENSOR_ALARMS.name) or ()
        tps = [TopicPartition(SENSOR_ALARMS.name, p) for p in partitions]
        consumer.assign(tps)
        consumer.seek_to_end(*tps)
        for tp in tps:
            consumer.position(tp)
        self._consumer = consumer
        self._thread = threading.Thread(target=self._loop, name="bench-alarms", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            for batch in self._consumer.poll(timeout_ms=20).values():
                now = time.monotonic()
                self.arrivals.extend((now, orjson.loads(r.value)) for r in batch)
        self._consumer.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _latency(bootstrap: str, *, seconds: float) -> list[float]:
    registry = load_registry(load_settings().data.seoul_dir)
    accels = [s for s in registry.sensors() if s.kind is SensorKind.ACCELERATION]
    watcher = AlarmWatcher(bootstrap)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=0)
    sent: dict[str, float] = {}
    pattern = [3.0, 30.0, 60.0]  # normal, watch, critical (next round: back to normal, held)
    n = int(LATENCY_RATE * seconds)
    start = time.monotonic()
    for i in range(n):
        time.sleep(max(0.0, start + i / LATENCY_RATE - time.monotonic()))
        spec = accels[(i // 3) % len(accels)]
        at = datetime.now(UTC)
        r = _reading(spec.sensor_id, spec.structure_id, spec.kind, pattern[i % 3], at)
        producer.send(
            topics.SENSOR_READINGS.name, key=r.structure_id.encode(), value=encode_readings([r])
        )
        sent[r.id] = time.monotonic()
    producer.flush(timeout=30)
    producer.close()
    time.sleep(2.0)
    watcher.stop()
    return [
        (at - sent[alarm["reading_ids"][-1]]) * 1e3
        for at, alarm in watcher.arrivals
        if not alarm["fault"] and alarm["reading_ids"] and alarm["reading_ids"][-1] in sent
    ]


INCIDENT_TIMEOUT_S = 20.0
INCIDENT_POLL_S = 0.01
INCIDENT_PAUSE_S = 0.5
CRITICAL_GAL, NORMAL_GAL = 60.0, 3.0  # deck accelerometer: critical at 50 gal
WARMUP_BRIDGES = 10


class IncidentProbe:
    """Sends readings to ``sensor.readings`` and watches ``GET /api/incidents`` on the console."""

    def __init__(self, system: LocalSystem) -> None:
        self._producer = KafkaProducer(bootstrap_servers=system.bootstrap, acks=1, linger_ms=0)
        self._console = httpx.Client(base_url=system.url, timeout=5.0)

    def send(self, reading: SensorReading) -> None:
        self._producer.send(
            topics.SENSOR_READINGS.name,
            key=reading.structure_id.encode(),
            value=encode_readings([reading]),
        )
        self._producer.flush(timeout=10)

    def incident_with(self, event_id: str) -> str | None:
        """The id of the incident listing ``event_id`` among its events, if one does yet."""
        response = self._console.get("/api/incidents", params={"limit": 50})
        response.raise_for_status()
        return next((i["id"] for i in response.json() if event_id in i.get("event_ids", ())), None)

    def close(self) -> None:
        self._producer.close()
        self._console.close()


def _cross_critical(probe: IncidentProbe, sensor: Any) -> tuple[str, float]:
    """Send a normal reading, then one over critical; (the alarm's signal id, when sent)."""
    now = datetime.now(UTC)
    below = _reading(
        sensor.sensor_id, sensor.structure_id, sensor.kind, NORMAL_GAL, now - timedelta(seconds=1)
    )
    probe.send(below)
    over = _reading(sensor.sensor_id, sensor.structure_id, sensor.kind, CRITICAL_GAL, now)
    alarm_id = f"{sensor.sensor_id}:level:{int(now.timestamp() * 1000)}:critical"
    sent = time.monotonic()
    probe.send(over)
    return short_id("sensor", alarm_id), sent


def _wait_for_incident(probe: IncidentProbe, signal_ids: list[str], *, until: float) -> bool:
    """Poll the console until an incident lists one of ``signal_ids`` (False: not by ``until``)."""
    while time.monotonic() < until:
        if any(probe.incident_with(signal_id) for signal_id in signal_ids):
            return True
        time.sleep(INCIDENT_POLL_S)
    return False


def _wait_until_flowing(probe: IncidentProbe, system: LocalSystem, warmups: list[Any]) -> None:
    """Critical readings on ``warmups`` (a new bridge every few seconds: a bridge stays
    critical once raised) until one of them has opened an incident: the sensors worker has
    joined its group and dispatch consumes its alarms."""
    pending: list[str] = []
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    for sensor in warmups:
        pending.append(_cross_critical(probe, sensor)[0])
        if _wait_for_incident(probe, pending, until=min(time.monotonic() + 3.0, deadline)):
            return
        system.tick()
    if not _wait_for_incident(probe, pending, until=deadline):
        raise click.ClickException(
            f"no incident from a critical reading within {WORKER_TIMEOUT_S:.0f} s; see the logs"
            f" in {system.settings.data.dir / 'logs'}"
        )


def _incident_latency(rounds: int) -> tuple[list[float], int]:
    """Reading -> incident over ``rounds`` bridges on the real system; (latencies, missed)."""
    registry = load_registry(load_settings().data.seoul_dir)
    accels = [s for s in registry.sensors() if s.kind is SensorKind.ACCELERATION]
    if not 0 < rounds <= len(accels) - WARMUP_BRIDGES:
        raise click.UsageError(
            f"--incident-rounds: 1 to {len(accels) - WARMUP_BRIDGES} (one bridge a round)"
        )
    picked = random.Random(8).sample(accels, rounds + WARMUP_BRIDGES)
    warmups, measured = picked[:WARMUP_BRIDGES], picked[WARMUP_BRIDGES:]
    with (
        tempfile.TemporaryDirectory(prefix="gt-bench-sensors-") as tmp,
        contextlib.chdir(tmp),  # faust's table directories land here, not in the checkout
    ):
        settings = load_settings(
            data={"dir": Path(tmp)},
            console={"port": 0, "auth": "demo"},
            logging={"level": "warning"},
        )
        system = LocalSystem(settings, echo=lambda _line: None)
        system.env["GOLDENTIME_APP_ID"] = f"bench-sensors-{uuid.uuid4().hex[:6]}"
        system.supervisor.add(ChildSpec("sensors", python_argv("sensors", "worker")))
        with system:
            probe = IncidentProbe(system)
            try:
                _wait_until_flowing(probe, system, warmups)
                latencies: list[float] = []
                for sensor in measured:
                    time.sleep(INCIDENT_PAUSE_S)
                    signal_id, sent = _cross_critical(probe, sensor)
                    if _wait_for_incident(probe, [signal_id], until=sent + INCIDENT_TIMEOUT_S):
                        latencies.append((time.monotonic() - sent) * 1e3)
            finally:
                probe.close()
    return latencies, rounds - len(latencies)


def _child(target: Any, env: dict[str, str], total: int) -> tuple[Any, Queue[Any]]:
    spawn = multiprocessing.get_context("spawn")
    results: Queue[Any] = spawn.Queue()
    child = spawn.Process(target=target, args=(env, total, results), daemon=True)
    child.start()
    return child, results


def _stop(child: Any) -> None:
    child.terminate()
    child.join(timeout=15)


def _run_once(target: Any, bootstrap: str, total: int, data_dir: Path) -> float:
    child, results = _child(target, _env(bootstrap, data_dir), total)
    try:
        events, seconds = results.get(timeout=WORKER_TIMEOUT_S)
        return float(events) / max(float(seconds), 1e-9)
    finally:
        _stop(child)


def _fresh_broker(readings: int, *, pack: int) -> EmbeddedBroker:
    broker = EmbeddedBroker().start()
    declared = (*topics.ALL_TOPICS, SENSOR_ALARMS)
    ensure_topics(broker.bootstrap_servers, partitions=4, replication_factor=1, topics=declared)
    end = datetime.now(UTC) - timedelta(minutes=1)
    _preload(broker.bootstrap_servers, generate_load(readings, seed=8, end=end), pack=pack)
    return broker


def _figures(samples: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(samples, 0.5), 1),
        "p99": round(percentile(samples, 0.99), 1),
        "max": round(max(samples), 1),
    }


@click.command("sensors")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--readings", default=200_000, show_default=True, help="Readings pre-loaded.")
@click.option(
    "--single-readings", default=60_000, show_default=True, help="Readings, one a message."
)
@click.option("--pack", default=100, show_default=True, help="Readings per message (ingest).")
@click.option(
    "--incident-rounds",
    default=20,
    show_default=True,
    help="Critical crossings timed to their incident (one bridge each).",
)
@click.option(
    "--quick",
    is_flag=True,
    help="A quarter of the readings, half the latency phase, 10 incident rounds.",
)
def command(
    as_json: bool, readings: int, single_readings: int, pack: int, incident_rounds: int, quick: bool
) -> None:
    """Readings/s per worker through the rules vs a decode-only agent; reading -> alarm and
    reading -> incident latency."""
    latency_s = LATENCY_S
    if quick:
        readings, single_readings = readings // 4, single_readings // 4
        latency_s, incident_rounds = LATENCY_S / 2, min(incident_rounds, 10)
    with (
        tempfile.TemporaryDirectory(prefix="gt-bench-sensors-") as scratch,
        contextlib.chdir(scratch),  # the workers' faust table directories land here
    ):
        result = _measure(
            readings=readings,
            single_readings=single_readings,
            pack=pack,
            latency_s=latency_s,
            incident_rounds=incident_rounds,
        )
    if as_json:
        click.echo(json.dumps(result))
        return
    _print_human(result)


@contextlib.contextmanager
def _worker_database() -> Iterator[Path]:
    """A temporary data folder whose database has the schema, for the workers of one run."""
    with tempfile.TemporaryDirectory(prefix="gt-bench-sensors-db-") as tmp:
        create_schema(engine_for(load_settings(data={"dir": Path(tmp)})))
        yield Path(tmp)


def _measure(
    *, readings: int, single_readings: int, pack: int, latency_s: float, incident_rounds: int
) -> dict[str, Any]:
    with _worker_database() as data_dir, _fresh_broker(readings, pack=pack) as broker:
        env = _env(broker.bootstrap_servers, data_dir)
        child, results = _child(run_rules_worker, env, readings)
        try:
            events, seconds = results.get(timeout=WORKER_TIMEOUT_S)
            rules_rate = events / max(seconds, 1e-9)
            latencies = _latency(broker.bootstrap_servers, seconds=latency_s)
        finally:
            _stop(child)
        baseline_rate = _run_once(run_decode_baseline, broker.bootstrap_servers, readings, data_dir)
    with _worker_database() as data_dir, _fresh_broker(single_readings, pack=1) as broker:
        single_rate = _run_once(
            run_rules_worker, broker.bootstrap_servers, single_readings, data_dir
        )
    if not latencies:
        raise click.ClickException("no alarm arrived in the latency phase")
    to_incident, missed = _incident_latency(incident_rounds)
    if not to_incident:
        raise click.ClickException("no critical reading reached an incident in the timed rounds")
    lat = {**_figures(latencies), "alarms": len(latencies), "rate_per_s": LATENCY_RATE}
    incident = {**_figures(to_incident), "rounds": len(to_incident), "missed": missed}
    return {
        "readings_per_s_per_worker": round(rules_rate, 1),
        "baseline_readings_per_s": round(baseline_rate, 1),
        "rules_vs_baseline": round(rules_rate / baseline_rate, 3),
        "readings_per_message": pack,
        "single_reading_messages_readings_per_s": round(single_rate, 1),
        "alarm_latency_ms": lat,
        "reading_to_incident_ms": incident,
        "throughput_readings": readings,
        "single_reading_messages": single_readings,
        "reach": {
            "readings_per_s_per_worker": 20_000,
            "alarm_latency_p99_ms": 1000,
            "reading_to_incident_p99_ms": 1000,
        },
    }


def _print_human(result: dict[str, Any]) -> None:
    lat, incident = result["alarm_latency_ms"], result["reading_to_incident_ms"]
    click.echo(
        f"rules: {result['readings_per_s_per_worker']:.0f} readings/s per worker "
        f"({result['readings_per_message']} readings a message) vs decode-only faust agent "
        f"{result['baseline_readings_per_s']:.0f}/s (ratio {result['rules_vs_baseline']}); one "
        f"reading a message: {result['single_reading_messages_readings_per_s']:.0f}/s "
        "(reach >= 20000)"
    )
    click.echo(
        f"reading -> alarm at {LATENCY_RATE:.0f} readings/s (one a message): p50 {lat['p50']} ms, "
        f"p99 {lat['p99']} ms over {lat['alarms']} alarms"
    )
    click.echo(
        f"reading -> incident (sensors worker, dispatch, console): p50 {incident['p50']} ms, "
        f"p99 {incident['p99']} ms, max {incident['max']} ms over {incident['rounds']} rounds"
        f" ({incident['missed']} missed; reach p99 <= 1000)"
    )
