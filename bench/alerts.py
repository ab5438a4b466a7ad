"""Benchmark of the alerts package: geo-targeting 1 M subscribers and SMS fan-out.

- Geo-targeting: 1 M seeded random locations over Seoul against the full 종로구 outline with
  ``shapely.contains_xy`` (median/p95 of 7 runs), against a per-point Python loop timed on a
  20 000-point sample and extrapolated to 1 M (stated in the output).
- Fan-out: the real ``twilio`` client and the real fan-out (SQLite idempotency rows claimed
  before sending and recorded per batch, threads) against the loopback fake, which runs in
  its own process so it does not share the fan-out's GIL; median of 3 unlimited runs, each
  next to a bare client loop (same client, same threads, no database) as the baseline of the
  same run; then with a per-sender limit, the rate measured at the fake from its receive
  timestamps.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import numpy as np

from alerts.alert_store import create_tables
from alerts.areas import load_gazetteer
from alerts.channels.base import OutboundMessage
from alerts.channels.twilio_sms import TwilioSmsChannel, twilio_client
from alerts.fanout import FanOut, plan
from alerts.geotarget import Recipient, SubscriberIndex
from goldentime.db import make_engine, session_factory

SEED = 20260302
N_SUBSCRIBERS = 1_000_000
LOOP_SAMPLE = 20_000
FANOUT_WORKERS = 4
FANOUT_BATCH = 500
SENDER = "+8215881190"
BODY = "[훈련] 종로구 화재 연기, 창문을 닫으세요."
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "bench-token"


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def bench_geotarget() -> dict[str, Any]:
    rng = np.random.default_rng(SEED)
    n = N_SUBSCRIBERS
    index = SubscriberIndex(
        phones=[""] * n,
        languages=["ko"] * n,
        active=np.ones(n, dtype=bool),
        exercise=np.zeros(n, dtype=bool),
        owner=np.arange(n, dtype=np.int64),
        lon=rng.uniform(126.76, 127.19, n),
        lat=rng.uniform(37.42, 37.70, n),
    )
    area = load_gazetteer().resolve("Jongno-gu").geometry
    timings = []
    found = 0
    for _ in range(7):
        start = time.perf_counter()
        found = len(index.inside(area))
        timings.append((time.perf_counter() - start) * 1000)
    sample = SubscriberIndex(
        phones=index.phones[:LOOP_SAMPLE],
        languages=index.languages[:LOOP_SAMPLE],
        active=index.active[:LOOP_SAMPLE],
        exercise=index.exercise[:LOOP_SAMPLE],
        owner=index.owner[:LOOP_SAMPLE],
        lon=index.lon[:LOOP_SAMPLE],
        lat=index.lat[:LOOP_SAMPLE],
    )
    start = time.perf_counter()
    loop_found = len(sample.inside_loop(area))
    loop_ms = (time.perf_counter() - start) * 1000 * (n / LOOP_SAMPLE)
    if loop_found != len(sample.inside(area)):
        raise click.ClickException("vectorised and loop geo-targeting disagree")
    median = statistics.median(timings)
    return {
        "geotarget_1m_ms": round(median, 1),
        "geotarget_1m_p95_ms": round(_percentile(timings, 95), 1),
        "geotarget_inside": found,
        "loop_1m_ms_extrapolated": round(loop_ms, 0),
        "loop_ratio": round(loop_ms / median, 1),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_fake() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "alerts.fakes.twilio_api",
            "--port",
            str(port),
            "--auth-token",
            AUTH_TOKEN,
            "--account-sid",
            ACCOUNT_SID,
        ],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_fake/messages", timeout=1):
                return process, base
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise click.ClickException("the fake Twilio API did not start")


def _fake_timestamps(base: str) -> list[float]:
    with urllib.request.urlopen(f"{base}/_fake/messages", timeout=30) as response:
        rows = json.loads(response.read())["messages"]
    return sorted(float(r["created_epoch"]) for r in rows)


def _channel(base: str, rate: float | None) -> TwilioSmsChannel:
    return TwilioSmsChannel(
        client_factory=lambda: twilio_client(
            account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, base_url=base
        ),
        sender=SENDER,
        status_callback_url=None,
        rate_per_s=rate,
    )


def _client_loop(base: str, *, first: int, n: int, workers: int) -> float:
    """Baseline: the same channel and client on the same threads, without any database."""
    channel = _channel(base, None)
    messages = [
        OutboundMessage(key=str(i), to=f"+8211{i:08d}", body=BODY, language="ko", validity_s=3600)
        for i in range(first, first + n)
    ]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(channel.send, messages))
    return n / (time.perf_counter() - start)


def _fanout(
    base: str, db_dir: Path, *, alert_id: str, n: int, rate: float | None, workers: int
) -> float:
    engine = make_engine(f"sqlite:///{db_dir / (alert_id + '.db')}")
    create_tables(engine)
    sessions = session_factory(engine)
    recipients = [Recipient(f"+8210{i:08d}", "ko") for i in range(n)]
    plan(sessions, alert_id=alert_id, channel="sms", recipients=recipients, now=datetime.now(UTC))
    fan = FanOut(
        sessions,
        channel=_channel(base, rate),
        now=lambda: datetime.now(UTC),
        workers=workers,
        batch_size=FANOUT_BATCH,
    )
    start = time.perf_counter()
    report = fan.run(alert_id=alert_id, bodies={"ko": BODY}, validity_s=3600)
    elapsed = time.perf_counter() - start
    if report.sent != n:
        raise click.ClickException(f"fan-out sent {report.sent} of {n} ({report.failed} failed)")
    return n / elapsed


def bench_fanout(*, messages: int, limited_messages: int, limit: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        process, base = _start_fake()
        try:
            _fanout(base, Path(tmp), alert_id="warmup", n=200, rate=None, workers=4)
            runs: list[float] = []
            loops: list[float] = []
            for i in range(3):
                loops.append(
                    _client_loop(base, first=i * messages, n=messages, workers=FANOUT_WORKERS)
                )
                runs.append(
                    _fanout(
                        base,
                        Path(tmp),
                        alert_id=f"free{i}",
                        n=messages,
                        rate=None,
                        workers=FANOUT_WORKERS,
                    )
                )
        finally:
            process.terminate()
            process.wait(timeout=10)
        process, base = _start_fake()
        try:
            _fanout(base, Path(tmp), alert_id="limited", n=limited_messages, rate=limit, workers=4)
            stamps = _fake_timestamps(base)
        finally:
            process.terminate()
            process.wait(timeout=10)
    measured = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    return {
        "fanout_msgs_per_s": round(statistics.median(runs), 0),
        "fanout_runs_msgs_per_s": [round(r, 0) for r in runs],
        "client_loop_msgs_per_s": round(statistics.median(loops), 0),
        "client_loop_runs_msgs_per_s": [round(r, 0) for r in loops],
        "fanout_vs_client_loop": round(statistics.median(runs) / statistics.median(loops), 2),
        "fanout_messages": messages,
        "rate_limit_per_s": limit,
        "rate_limit_measured_per_s": round(measured, 1),
        "rate_limit_error_pct": round(abs(measured - limit) / limit * 100, 2),
    }


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option("--messages", default=6000, show_default=True, help="Messages per unlimited run.")
@click.option("--limit", default=500.0, show_default=True, help="Per-sender limit (msgs/s).")
@click.option("--limited-messages", default=2000, show_default=True)
def command(as_json: bool, messages: int, limit: float, limited_messages: int) -> None:
    """Geo-targeting 1 M subscribers and SMS fan-out to the loopback Twilio fake."""
    figures = {
        **bench_geotarget(),
        **bench_fanout(messages=messages, limited_messages=limited_messages, limit=limit),
    }
    if as_json:
        click.echo(json.dumps(figures))
        return
    click.echo(
        f"geo-targeting 1M subscribers: median {figures['geotarget_1m_ms']} ms, "
        f"p95 {figures['geotarget_1m_p95_ms']} ms ({figures['geotarget_inside']} inside)"
    )
    click.echo(
        f"per-point loop: {figures['loop_1m_ms_extrapolated']:.0f} ms for 1M "
        f"(timed on {LOOP_SAMPLE} points, extrapolated); ratio {figures['loop_ratio']}x"
    )
    click.echo(
        f"fan-out to the loopback Twilio fake, no limit: {figures['fanout_msgs_per_s']:.0f} msg/s "
        f"(median of {figures['fanout_runs_msgs_per_s']}, {messages} messages each); "
        f"bare client loop {figures['client_loop_msgs_per_s']:.0f} msg/s "
        f"(ratio {figures['fanout_vs_client_loop']})"
    )
    click.echo(
        f"with a {limit:g} msg/s limit: measured {figures['rate_limit_measured_per_s']} msg/s at "
        f"the fake, error {figures['rate_limit_error_pct']} %"
    )
