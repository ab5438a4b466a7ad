"""The database fault on PostgreSQL: the server is stopped for 20 s mid-stream, then started.

A local system (embedded broker, 2 dispatch workers, the console) on a PostgreSQL server of
its own takes a mixed replay (calls and video through the intake outbox) while the server is
stopped with ``pg_ctl stop`` and started again 20 s later. A probe call is posted to the
console all along: while the server is down the intake answers 503 with Retry-After (never
accepts what it cannot keep); once it is back, everything accepted ends in the record exactly
once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gt_postgres import PostgresServer, postgres_server, unavailable_reason

from goldentime.settings import load_settings
from ops.chaos import ChaosOptions, Target, run_chaos, start_local_system

pytestmark = pytest.mark.chaos


@pytest.fixture
def server() -> Iterator[PostgresServer]:
    reason = unavailable_reason()
    if reason is not None or os.environ.get("GOLDENTIME_TEST_POSTGRES_URL"):
        if os.environ.get("CI") and reason is not None:
            pytest.fail(f"PostgreSQL is required in CI: {reason}")
        pytest.skip(reason or "an external PostgreSQL server cannot be stopped by the test")
    with postgres_server() as running:
        yield running


def test_postgres_stopped_for_20_s_loses_nothing(tmp_path: Path, server: PostgresServer) -> None:
    def stop_for(seconds: float) -> Callable[[], None]:
        server.stop()
        restart = threading.Timer(seconds, server.start)
        restart.start()
        return restart.join

    settings = load_settings(
        data={"dir": tmp_path}, console={"port": 0, "auth": "demo"}, database={"url": server.url}
    )
    system = start_local_system(settings, workers=2)
    try:
        result = run_chaos(
            Target(bootstrap=system.bootstrap, database_url=server.url, local=system),
            ChaosOptions(
                events=800,
                kill_every_s=None,
                rate=800 / 40,
                faults=("database",),
                db_outage_s=20.0,
                database_away=stop_for,
                timeout_s=120.0,
            ),
            seoul_data_dir=settings.data.seoul_dir,
        )
    finally:
        system.stop()
    out = result.as_dict()
    print({k: out[k] for k in ("faults", "intake", "accepted", "incidents", "durations_s")})
    [fault] = out["faults"]
    assert fault["kind"] == "database" and fault["target"] == "postgresql: server stopped"
    assert fault["recovered_after_s"] is not None and fault["recovered_after_s"] >= 19
    answers = out["intake"]["probe_answers"]
    assert answers["503"] > 0 and answers["503_without_retry_after"] == 0
    assert out["intake"]["outbox_pending_at_end"] == 0
    assert out["lost"] == 0, out["check"]["lost_examples"]
    assert out["duplicated"] == 0 and out["merged"] == 0
    assert out["dead_letters"] == out["malformed"]
    assert out["consistent"] is True
