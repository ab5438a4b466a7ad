"""`goldentime chaos`: replay mixed events while workers are killed, then check the record."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import httpx

from goldentime.settings import Settings, load_settings
from ops.chaos import ChaosError, ChaosOptions, ChaosResult, Target, run_chaos
from ops.fault_drill import parse_faults

SLOT_BASE = datetime(1900, 1, 1, tzinfo=UTC)
SLOTS = 4000
DRILL_SPAN_S = 60.0  # with --faults the replay is spread over about this long


def remote_start(*, events: int, now: float) -> datetime:
    """An event-time slot of its own for a run against a shared deployment.

    Runs started 10 minutes or more apart (within ~4 weeks) get disjoint time ranges, so their
    planted events can never correlate with each other's incidents.
    """
    slot_days = max(10, events // 500)
    slot = int(now // 600) % SLOTS
    return SLOT_BASE + timedelta(days=slot * slot_days)


def _console_workers(url: str) -> list[dict[str, Any]]:
    try:
        body = httpx.get(f"{url.rstrip('/')}/api/health", timeout=5.0).json()
    except (httpx.HTTPError, ValueError) as err:
        return [{"error": f"{url}/api/health: {err}"}]
    workers = body.get("workers", [])
    return list(workers) if isinstance(workers, list) else []


def _print_human(result: ChaosResult) -> None:
    out = result.as_dict()
    click.echo(
        f"events {out['events']}  kills {out['kills']}  lost {out['lost']}  "
        f"duplicated {out['duplicated']}  merged {out['merged']}  "
        f"dead letters {out['dead_letters']} (malformed {out['malformed']})"
    )
    click.echo(f"inputs: {out['inputs']}")
    click.echo(f"dead-letter reasons: {out['check']['dead_letter_reasons']}")
    click.echo(f"durations (s): {out['durations_s']}")
    for fault in out["faults"]:
        click.echo(f"fault: {fault}")
    for worker in out["workers"]:
        click.echo(f"worker: {worker}")
    for note in out["notes"]:
        click.echo(f"note: {note}")
    click.echo("CONSISTENT" if out["consistent"] else "INCONSISTENT")


@click.command()
@click.option("--events", type=click.IntRange(100, 1_000_000), default=5000, show_default=True)
@click.option(
    "--kill-every",
    type=click.FloatRange(0, 3600),
    default=3.0,
    show_default=True,
    help="SIGKILL a random dispatch worker every N seconds (local system only; 0: never). "
    "Paused while a --faults fault is being drilled.",
)
@click.option(
    "--faults",
    default="",
    help="Faults to drill in turn, comma-separated: worker,broker,database,console (local "
    "system only). Each is timed until a probe call posted to the console is in an incident.",
)
@click.option(
    "--db-outage",
    type=click.FloatRange(1, 600),
    default=20.0,
    show_default=True,
    help="Seconds the database fault keeps the database unavailable.",
)
@click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True)
@click.option("--seed", type=int, default=119, show_default=True)
@click.option(
    "--rate", type=click.FloatRange(10, 100_000), default=None,
    help="Records sent per second [default: 250; with --faults, spread over about 60 s of "
    "drill: events/60, at least 10].",
)  # fmt: skip
@click.option("--timeout", type=click.FloatRange(5, 7200), default=300.0, show_default=True)
@click.option("--bootstrap", default=None, help="Kafka bootstrap of an existing deployment.")
@click.option("--database-url", default=None, help="Its database (needed with --bootstrap).")
@click.option("--console-url", default=None, help="Its console, for the worker list.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def chaos(
    events: int,
    kill_every: float,
    faults: str,
    db_outage: float,
    workers: int,
    seed: int,
    rate: float | None,
    timeout: float,
    bootstrap: str | None,
    database_url: str | None,
    console_url: str | None,
    as_json: bool,
) -> None:
    """Replay mixed events while killing dispatch workers (and drilling --faults); count
    lost/duplicated/dead letters.

    Without --bootstrap a fresh local system (embedded broker, SQLite in a temporary data
    directory) is started and stopped. Exits 1 when the record is not consistent.
    """
    if (bootstrap is None) != (database_url is None):
        raise ChaosError("--bootstrap and --database-url go together (the checker reads both)")
    if 0 < kill_every < 0.5:
        raise click.BadParameter("0 (never) or at least 0.5 seconds", param_hint="--kill-every")
    kinds = parse_faults(faults)
    if rate is None:
        rate = max(10.0, events / DRILL_SPAN_S) if kinds else 250.0
    options = ChaosOptions(events=events, kill_every_s=kill_every or None, rate=rate, seed=seed,
                           timeout_s=timeout, faults=kinds, db_outage_s=db_outage)  # fmt: skip
    echo = (lambda _line: None) if as_json else click.echo
    if bootstrap is not None and database_url is not None:
        options.prefix = f"chaos{int(time.time())}"
        options.start = remote_start(events=events, now=time.time())
        result = run_chaos(
            Target(bootstrap=bootstrap, database_url=database_url),
            options,
            seoul_data_dir=load_settings().data.seoul_dir,
            echo=echo,
        )
        if console_url:
            result.workers = _console_workers(console_url)
    else:
        result = _run_local(options, workers=workers, echo=echo)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        _print_human(result)
    if not result.report.ok:
        raise SystemExit(1)


def _run_local(options: ChaosOptions, *, workers: int, echo: Any) -> ChaosResult:
    import tempfile
    from pathlib import Path

    from ops.chaos import start_local_system

    with tempfile.TemporaryDirectory(prefix="goldentime-chaos-") as tmp:
        # demo auth: the drill's probe calls post to the throw-away console without a token
        settings: Settings = load_settings(
            data={"dir": Path(tmp)}, console={"port": 0, "auth": "demo"}
        )
        system = start_local_system(settings, workers=workers)
        try:
            echo(f"local system: {workers} dispatch worker(s), broker {system.bootstrap}")
            target = Target(
                bootstrap=system.bootstrap,
                database_url=settings.effective_database_url,
                local=system,
            )
            return run_chaos(target, options, seoul_data_dir=settings.data.seoul_dir, echo=echo)
        finally:
            system.stop()
