"""`goldentime bench scaleout`: dispatch intake with 1, 2 and 3 workers on the same topics.

For each worker count a fresh local system is started (embedded Tansu broker, SQLite, the
console, N `goldentime worker dispatch` processes, recommender on as in production). Once every
worker holds some of the ``calls`` partitions (read from the ``dispatch_workers`` heartbeat
table), the same seeded replay of calls (planted duplicates) is produced on ``calls`` keyed by
cell, and the intake rate is the number of calls over the time from the first send to the last
stored row. The baseline is the 1-worker run of the same invocation; on 2 shared cores expect
sub-linear scaling (SQLite takes one writer at a time and the workers share the CPU).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from kafka import KafkaProducer
from sqlalchemy import func, select

from dispatch.cells import cell_of
from dispatch.incident_store import CallRow, live_workers
from dispatch.replay import generate_replay
from goldentime.contracts import encode
from goldentime.db import make_engine, session_factory
from goldentime.errors import GoldenTimeError
from goldentime.settings import load_settings
from ops.chaos import start_local_system

SPREAD_TIMEOUT_S = 60.0
STORE_TIMEOUT_S = 180.0
HEARTBEAT_FRESH_S = 4.0


class ScaleoutError(GoldenTimeError):
    """A scale-out run did not reach its spread or did not store every call in time."""


@dataclass
class ScaleoutRun:
    workers: int
    calls: int
    seconds: float
    partitions: dict[str, int] = field(default_factory=dict)  # worker name -> calls partitions

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "workers": self.workers,
            "calls": self.calls,
            "seconds": round(self.seconds, 2),
            "calls_per_s": round(self.calls_per_s, 1),
            "partitions": self.partitions,
        }


def _spread(engine: Any, workers: int, partitions: int) -> dict[str, int]:
    """Wait until ``workers`` live workers share all ``partitions``; return who holds how many."""
    deadline = time.monotonic() + SPREAD_TIMEOUT_S
    held: dict[str, int] = {}
    while time.monotonic() < deadline:
        with session_factory(engine)() as session:
            rows = live_workers(session, now=datetime.now(UTC), max_age_s=HEARTBEAT_FRESH_S)
            held = {r.name: r.partitions for r in rows if r.partitions > 0}
        if len(held) == workers and sum(held.values()) == partitions:
            return held
        time.sleep(0.5)
    raise ScaleoutError(
        f"{workers} worker(s) did not share the {partitions} calls partitions within "
        f"{SPREAD_TIMEOUT_S:.0f}s (holding: {held})"
    )


def measure(workers: int, *, calls: int, seed: int = 7, data_dir: Path) -> ScaleoutRun:
    """One fresh system with ``workers`` dispatch workers; intake rate of ``calls`` calls."""
    settings = load_settings(data={"dir": data_dir}, console={"port": 0})
    replay = generate_replay(calls, seed=seed, prefix=f"so{workers}")
    system = start_local_system(settings, workers=workers, sensors=False)
    engine = make_engine(settings.effective_database_url)
    try:
        held = _spread(engine, workers, settings.broker.partitions)
        producer = KafkaProducer(bootstrap_servers=system.bootstrap, acks="all", linger_ms=5)
        started = time.monotonic()
        try:
            for call in replay.calls:
                producer.send("calls", key=cell_of(call.lat, call.lon).encode(), value=encode(call))
            producer.flush(timeout=60)
        finally:
            producer.close()
        deadline = started + STORE_TIMEOUT_S
        stored = 0
        while stored < calls:
            if time.monotonic() > deadline:
                raise ScaleoutError(f"{stored}/{calls} calls stored within {STORE_TIMEOUT_S}s")
            system.tick()
            with engine.connect() as conn:
                stored = int(conn.execute(select(func.count()).select_from(CallRow)).scalar_one())
            time.sleep(0.05)
        return ScaleoutRun(workers, calls, time.monotonic() - started, held)
    finally:
        engine.dispose()
        system.stop()


def run(worker_counts: tuple[int, ...], *, calls: int) -> list[ScaleoutRun]:
    runs = []
    for count in worker_counts:
        with tempfile.TemporaryDirectory(prefix=f"goldentime-scaleout-{count}-") as tmp:
            runs.append(measure(count, calls=calls, data_dir=Path(tmp)))
    return runs


def summary(runs: list[ScaleoutRun]) -> dict[str, Any]:
    base = runs[0].calls_per_s
    return {
        "runs": [r.as_dict() | {"speedup": round(r.calls_per_s / base, 2)} for r in runs],
        "baseline": f"{runs[0].workers} worker(s), same invocation",
    }


@click.command("scaleout")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--calls", default=1000, show_default=True, help="Calls per worker count.")
@click.option("--workers", "counts", default="1,2,3", show_default=True, help="Worker counts.")
def command(as_json: bool, calls: int, counts: str) -> None:
    """Dispatch intake throughput with 1, 2 and 3 workers; partitions per worker."""
    try:
        worker_counts = tuple(int(c) for c in counts.split(","))
    except ValueError as err:
        raise click.BadParameter(f"--workers wants comma-separated integers: {counts!r}") from err
    result = summary(run(worker_counts, calls=calls))
    if as_json:
        click.echo(json.dumps(result))
        return
    for r in result["runs"]:
        click.echo(
            f"{r['workers']} worker(s): {r['calls_per_s']:>7.1f} calls/s "
            f"({r['calls']} in {r['seconds']} s, x{r['speedup']} vs 1), "
            f"partitions {r['partitions']}"
        )
