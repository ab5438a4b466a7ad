"""`goldentime bench surge`: the intake at 10x Seoul's mean call rate with a crowd crush on top.

Seoul's 119 centre takes 2,060,000 calls a year (2018-2020 mean, docs/simulation.md), 235 an
hour. An hour at ``--factor`` times that (2,352 calls at 10x, event times within one hour) is
planted all over the city: events of 1-4 callers with the replay's families and weights
(``dispatch.replay``), one per cell of a 760 m grid inside the 25 gu and outside 1.5 km of the
crowd, so no two events can correlate and the right grouping is known. On top, an
Itaewon-like crowd crush in the same hour (``--crowd`` calls from within 300 m of the alley,
rising, 20 % repeat callers, 50-300 m location error, falls/breathing/crowd as
ems/cardiac_arrest/rescue/other).

Everything is pre-loaded on the ``calls`` topic of a fresh embedded Tansu broker (time
compressed: the worker takes them as fast as it can) and a real dispatch intake worker (its
own consumer group and SQLite database, the recommender task off, as `bench dispatch`)
correlates and stores them, surges included. Calls/s are counted from its first stored row to
its last; the baseline is a plain faust agent that only decodes the same records (as in
`bench dispatch`). ``ops.consistency`` then checks that no call was lost, no planted
event split (duplicated) or merged with another, and counts the crowd's incidents and MCIs.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine, func, select

from bench import _dispatch_workers
from bench.dispatch import WORKER_START_TIMEOUT_S, _baseline_rate, _preload
from dispatch.cells import distance_m
from dispatch.context import gu_locator
from dispatch.incident_store import CallRow
from dispatch.mci_store import MciRow
from dispatch.replay import (
    CALLER_SPREAD_M,
    CALLER_WINDOW_S,
    EVENT_SEPARATION_M,
    FAMILY_TYPES,
    FAMILY_WEIGHTS,
    MAX_CALLERS,
    SEOUL,
)
from goldentime.broker import EmbeddedBroker, ensure_topics
from goldentime.contracts import Call, CallSource, IncidentType, LocationSource
from goldentime.db import create_schema, make_engine
from goldentime.geo import M_PER_DEG_LAT, m_per_deg_lon, offset, span_degrees
from goldentime.settings import load_settings
from ops.consistency import (
    DeadLetterReader,
    Expected,
    compare,
    incident_members,
    stored_links,
)

SEOUL_CALLS_PER_HOUR = 2_060_000 / 8_760  # 235 (stats_119_seoul.yaml, docs/simulation.md)
ALLEY = (37.5345, 126.9945)  # 이태원동, the alley by the Hamilton hotel
CROWD_RADIUS_M = 300.0
CROWD_S = 3_600.0
CITY_CLEAR_M = 1_500.0  # the city's planted events stay this far from the crowd
GRID_M = 760.0  # event sites: one per cell of this grid (so >= 700 m apart, see dispatch.replay)
CROWD_TYPES = (
    IncidentType.EMS,
    IncidentType.CARDIAC_ARREST,
    IncidentType.RESCUE,
    IncidentType.OTHER,
)
CROWD_TEXTS = ("사람들이 쓰러졌어요", "숨을 못 쉬어요", "사람이 너무 많아요", "여러 명 깔렸어요")
PREFIX = "sg"
DRAIN_TIMEOUT_S = 300.0  # to store every call once the first is stored
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)  # 21:00 in Seoul


def crowd_calls(n: int, *, seed: int, start: datetime) -> list[Call]:
    """An Itaewon-like crowd crush: ``n`` calls over an hour, rising (the k-th call at
    ``sqrt(k/n)`` of the hour), within 300 m, 20 % repeat callers, 50-300 m location error."""
    rng = random.Random(seed)
    calls: list[Call] = []
    numbers: list[str] = []
    for k in range(n):
        angle, metres = rng.uniform(0, 2 * math.pi), CROWD_RADIUS_M * math.sqrt(rng.random())
        lat, lon = offset(*ALLEY, north_m=metres * math.sin(angle), east_m=metres * math.cos(angle))
        if numbers and rng.random() < 0.2:
            caller = rng.choice(numbers)  # a repeat caller
        else:
            caller = f"010-{rng.randrange(10_000):04d}-{rng.randrange(10_000):04d}"
            numbers.append(caller)
        calls.append(
            Call(
                id=f"{PREFIX}-crowd-{k:03d}",
                received_at=start + timedelta(seconds=CROWD_S * math.sqrt((k + 1) / n)),
                lat=round(lat, 7),
                lon=round(lon, 7),
                type=CROWD_TYPES[k % len(CROWD_TYPES)],
                caller=caller,
                description=CROWD_TEXTS[k % len(CROWD_TEXTS)],
                source=CallSource.SIMULATION,
                location_uncertainty_m=round(rng.uniform(50, 300), 1),
                location_source=LocationSource.NETWORK,
            )
        )
    return calls


def _sites(rng: random.Random, data_dir: Path) -> list[tuple[float, float]]:
    """Event sites on a jittered grid inside Seoul's gu, away from the crowd, shuffled."""
    locate = gu_locator(data_dir)
    south, north, west, east = SEOUL
    dlat, dlon = span_degrees((south + north) / 2, GRID_M)
    jitter = (GRID_M - EVENT_SEPARATION_M) / 2 / GRID_M  # keeps any two sites 700 m apart
    sites = []
    for row in range(int((north - south) / dlat) + 1):
        for col in range(int((east - west) / dlon) + 1):
            lat = south + (row + 0.5 + rng.uniform(-jitter, jitter)) * dlat
            lon = west + (col + 0.5 + rng.uniform(-jitter, jitter)) * dlon
            if locate(lat, lon) is not None and distance_m(lat, lon, *ALLEY) > CITY_CLEAR_M:
                sites.append((lat, lon))
    rng.shuffle(sites)
    return sites


def city_calls(
    n: int, *, seed: int, start: datetime, data_dir: Path
) -> tuple[list[Call], dict[str, str]]:
    """``n`` calls in the hour after ``start`` all over Seoul: planted events of 1-4 callers
    (the replay's families and weights), each at its own grid site, so that no two events can
    correlate and the right grouping is known. Calls and their event ids."""
    rng = random.Random(seed)
    sites = _sites(rng, data_dir)
    calls: list[Call] = []
    event_of: dict[str, str] = {}
    for number, (lat, lon) in enumerate(sites):
        if len(calls) >= n:
            break
        event_id = f"{PREFIX}-ev{number:04d}"
        family = rng.choices(FAMILY_TYPES, weights=FAMILY_WEIGHTS)[0]
        first_at = start + timedelta(seconds=rng.uniform(0, 3_600 - CALLER_WINDOW_S))
        for caller in range(min(rng.randint(1, MAX_CALLERS), n - len(calls))):
            bearing, metres = rng.uniform(0, 2 * math.pi), rng.uniform(0, CALLER_SPREAD_M)
            at = first_at + timedelta(seconds=rng.uniform(0, CALLER_WINDOW_S) if caller else 0)
            call = Call(
                id=f"{event_id}-c{caller}",
                received_at=at,
                lat=round(lat + metres * math.sin(bearing) / M_PER_DEG_LAT, 7),
                lon=round(lon + metres * math.cos(bearing) / m_per_deg_lon(lat), 7),
                type=rng.choice(family),
                caller=f"010-{rng.randrange(10_000):04d}-{rng.randrange(10_000):04d}",
                description=f"bench {event_id} caller {caller + 1}",
                source=CallSource.SIMULATION,
            )
            calls.append(call)
            event_of[call.id] = event_id
    if len(calls) < n:
        raise click.ClickException(f"only {len(sites)} event sites for {n} calls in an hour")
    return calls, event_of


def _stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(CallRow)).scalar_one())


def _intake(env: dict[str, str], engine: Engine, total: int) -> tuple[float, float, int]:
    """A real intake worker stores the pre-loaded calls: (calls/s, seconds, calls stored).

    Waits for its start (not measured), then until every call is stored or the drain
    timeout passes (then fewer are stored: the consistency check counts them as lost)."""
    spawn = multiprocessing.get_context("spawn")
    child = spawn.Process(target=_dispatch_workers.run_intake, args=(env,), daemon=True)
    child.start()
    try:
        first: tuple[float, int] | None = None
        last = (0.0, 0)
        deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            n, now = _stored(engine), time.monotonic()
            if n and first is None:
                first, deadline = (now, n), now + DRAIN_TIMEOUT_S
            if n != last[1]:
                last = (now, n)
            if n >= total:
                break
            time.sleep(0.01)
        if first is None:
            raise click.ClickException("the intake worker stored nothing in time")
        seconds = max(last[0] - first[0], 1e-9)
        return (last[1] - first[1]) / seconds, seconds, last[1]
    finally:
        child.terminate()
        child.join(timeout=15)


def _mci_figures(engine: Engine, links: dict[str, str], crowd: list[Call]) -> dict[str, Any]:
    crowd_incidents = {links[c.id] for c in crowd if c.id in links}
    with engine.connect() as conn:
        rows = conn.execute(select(MciRow.incident_id, MciRow.proposed_level)).tuples().all()
    levels = dict(rows)
    in_crowd = [i for i in crowd_incidents if i in levels]
    holding = max((sum(links.get(c.id) == i for c in crowd) for i in crowd_incidents), default=0)
    return {
        "crowd_calls": len(crowd),
        "crowd_incidents": len(crowd_incidents),
        "crowd_calls_in_largest": holding,
        "crowd_mci": len(in_crowd),
        "crowd_level": max((levels[i] for i in in_crowd), default=0),
        "other_mci": len(levels) - len(in_crowd),  # MCIs of the city's ordinary calls
    }


def run(*, factor: float, crowd_n: int, seed: int, data_dir: Path) -> dict[str, Any]:
    settings = load_settings(data={"dir": data_dir}, logging={"level": "warning"})
    city_n = round(SEOUL_CALLS_PER_HOUR * factor)
    city, event_of = city_calls(city_n, seed=seed, start=START, data_dir=settings.data.seoul_dir)
    crowd = crowd_calls(crowd_n, seed=seed, start=START)
    calls = sorted(city + crowd, key=lambda c: (c.received_at, c.id))
    expected = Expected(
        prefix=PREFIX, event_of=event_of | {c.id: f"{PREFIX}-crowd" for c in crowd}, malformed=0
    )
    broker = EmbeddedBroker(log_file=data_dir / "broker.log").start()
    try:
        bootstrap = broker.bootstrap_servers
        ensure_topics(
            bootstrap,
            partitions=settings.broker.partitions,
            replication_factor=settings.broker.replication_factor,
        )
        letters = DeadLetterReader(bootstrap, prefix=PREFIX)
        _preload(bootstrap, calls)
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "GOLDENTIME_BROKER_FLAVOR": "tansu",
            "GOLDENTIME_DATA_DIR": str(data_dir),
            "GOLDENTIME_LOG_LEVEL": "warning",
        }
        db_url = f"sqlite:///{data_dir / 'surge.db'}"
        engine = make_engine(db_url)
        create_schema(engine)
        app_id = {"GOLDENTIME_APP_ID": f"bench-{uuid.uuid4().hex[:6]}"}
        rate, seconds, stored = _intake(env | {"DATABASE_URL": db_url} | app_id, engine, len(calls))
        letters.poll(timeout_s=1.0)
        links = stored_links(engine, PREFIX)
        report = compare(
            expected, links, incident_members(engine, links.values()), letters.letters.values()
        )
        letters.close()
        mci = _mci_figures(engine, links, crowd)
        engine.dispose()
        baseline = _baseline_rate(
            env
            | {"DATABASE_URL": f"sqlite:///{data_dir / 'baseline.db'}"}
            | {"GOLDENTIME_APP_ID": f"bench-{uuid.uuid4().hex[:6]}"},
            len(calls),
        )
    finally:
        broker.stop()
    span_s = (calls[-1].received_at - calls[0].received_at).total_seconds()
    return {
        "calls": len(calls),
        "city_calls": city_n,
        "factor": factor,
        "seoul_calls_per_hour": round(SEOUL_CALLS_PER_HOUR, 1),
        "event_time_span_s": round(span_s),
        "stored": stored,
        "intake_calls_per_s": round(rate, 1),
        "intake_s": round(seconds, 2),
        "baseline_calls_per_s": round(baseline, 1),
        "intake_vs_baseline": round(rate / baseline, 3),
        "needed_calls_per_s": round(SEOUL_CALLS_PER_HOUR * factor / 3600, 3),
        "consistency": report.as_dict(),
        "mci": mci,
    }


@click.command("surge")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--factor", default=10.0, show_default=True, help="Times Seoul's mean call rate.")
@click.option("--crowd", "crowd_n", default=100, show_default=True, help="Crowd-crush calls.")
@click.option("--seed", default=18, show_default=True)
def command(as_json: bool, factor: float, crowd_n: int, seed: int) -> None:
    """An hour at 10x Seoul's call rate plus a crowd crush through the real intake: calls/s,
    nothing lost or duplicated (consistency check), the crowd's incidents and MCI."""
    if not 0 < factor <= 100:
        raise click.BadParameter("between 0 and 100", param_hint="--factor")
    if not 0 <= crowd_n <= 1000:
        raise click.BadParameter("between 0 and 1000", param_hint="--crowd")
    with tempfile.TemporaryDirectory(prefix="gt-bench-surge-") as tmp:
        result = run(factor=factor, crowd_n=crowd_n, seed=seed, data_dir=Path(tmp))
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    check, mci = result["consistency"], result["mci"]
    click.echo(
        f"{result['calls']} calls ({result['city_calls']} = an hour at {factor:g}x Seoul's "
        f"{result['seoul_calls_per_hour']}/h, + {mci['crowd_calls']} crowd): intake "
        f"{result['intake_calls_per_s']} calls/s vs decode-only {result['baseline_calls_per_s']}"
        f" (ratio {result['intake_vs_baseline']}; the hour needs {result['needed_calls_per_s']})"
    )
    click.echo(
        f"lost {check['lost']}, duplicated {check['duplicated']}, merged {check['merged']}, "
        f"dead letters {check['dead_letters']}: {'consistent' if check['consistent'] else 'NOT'}"
    )
    click.echo(
        f"crowd: {mci['crowd_incidents']} incident(s), {mci['crowd_calls_in_largest']} calls in "
        f"the largest, MCI {mci['crowd_mci']} at level {mci['crowd_level']}; MCIs of ordinary "
        f"calls: {mci['other_mci']}"
    )
