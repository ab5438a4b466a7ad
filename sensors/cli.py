"""``goldentime sensors ...``: structures, replay, MQTT bridge, worker, demo scenario."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

import click

from goldentime.broker.clients import kafka_publisher
from goldentime.broker.publisher import BlockingPublisher
from goldentime.clock import SystemClock
from goldentime.settings import load_settings
from sensors.ingest import Ingestor, ReadingValidator
from sensors.registry import load_registry, summary_json

REPLAY_PACK = 100  # readings of one structure per message (the worker pays per message)


def _ingestor(consumer: str, *, pack: int = 1) -> tuple[Ingestor, BlockingPublisher]:
    settings = load_settings()
    clock = SystemClock()
    publisher = BlockingPublisher(kafka_publisher(settings, client_id=consumer), name=consumer)
    validator = ReadingValidator(load_registry(settings.data.seoul_dir), clock=clock)
    ingestor = Ingestor(
        validator=validator, publisher=publisher, consumer=consumer, clock=clock, pack=pack
    )
    return ingestor, publisher


@click.group("sensors")
def sensors() -> None:
    """Bridge and tunnel monitoring: registry, ingest (replay, MQTT) and the rules worker."""


@sensors.command("structures")
@click.option("--json", "as_json", is_flag=True, help="Print the registry as JSON.")
def structures(as_json: bool) -> None:
    """List the monitored structures and their sensors."""
    registry = load_registry(load_settings().data.seoul_dir)
    if as_json:
        click.echo(summary_json(registry))
        return
    for s in registry:
        grade = f" grade {s.safety_grade}" if s.safety_grade else ""
        edges = f", {len(s.edges)} central-graph edge(s)" if s.edges else ""
        if s.network_links:
            edges += f", {len(s.network_links)} Seoul network link(s)"
        kinds = ", ".join(x.kind.value for x in s.sensors)
        click.echo(f"{s.structure_id:28} {s.kind.value:6} {s.name}{grade}{edges}: {kinds}")
    click.echo(f"{len(registry)} structures, {registry.sensor_count} sensors")


@sensors.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--now", "to_now", is_flag=True, help="Shift timestamps so the last is now.")
@click.option("--speed", type=float, default=None, help="Pace by event time (1 = as recorded).")
def replay(file: Path, to_now: bool, speed: float | None) -> None:
    """Publish the readings of a JSONL or CSV FILE; bad lines go to the dead-letter topic."""
    from sensors.replay import replay_file

    ingestor, publisher = _ingestor("sensors.replay", pack=REPLAY_PACK)
    try:
        report = replay_file(
            file, ingestor=ingestor, shift_to=datetime.now(UTC) if to_now else None, speed=speed
        )
    finally:
        publisher.close()
    click.echo(f"{report.accepted} reading(s) published, {report.rejected} dead-lettered")


@sensors.command("mqtt-bridge")
@click.option("--host", default="127.0.0.1", show_default=True, help="MQTT broker host.")
@click.option("--port", default=1883, show_default=True, type=int, help="MQTT broker port.")
@click.option("--prefix", default="goldentime/sensors", show_default=True)
def mqtt_bridge(host: str, port: int, prefix: str) -> None:
    """Bridge MQTT readings ({prefix}/{structure}/{sensor}) to sensor.readings until stopped."""
    from sensors.mqtt import MqttBridge

    ingestor, publisher = _ingestor("sensors.mqtt")
    bridge = MqttBridge(ingestor=ingestor, host=host, port=port, prefix=prefix)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    bridge.start()
    click.echo(f"bridging mqtt://{host}:{port}/{bridge.subscription} -> sensor.readings")
    try:
        stop.wait()
    finally:
        bridge.stop()
        publisher.close()
    click.echo(f"{ingestor.accepted} published, {ingestor.rejected} dead-lettered")


@sensors.command("worker")
def worker() -> None:
    """Run the rules worker (sensor.readings -> sensor.alarms)."""
    from sensors.worker import run

    run(load_settings())


@sensors.command("scenario")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", default=8, show_default=True)
def scenario(out: Path, seed: int) -> None:
    """Write the Jamsu flood demo replay (JSONL) to OUT."""
    from sensors.scenario import generate_jamsu_flood, write_jsonl

    records = generate_jamsu_flood(seed=seed)
    click.echo(f"{len(records)} readings -> {write_jsonl(records, out)}")
