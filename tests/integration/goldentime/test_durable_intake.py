"""Issue 16's "Why", exactly as a new user would do it: an accepted call survives a full stop.

`goldentime up --no-demo` in a terminal of its own (its own process group), wait until
`/api/health` says `dispatch_ready`, pause the dispatch worker (SIGSTOP, as a hung process
would be), POST a call (202), SIGTERM the whole process group (what Ctrl-C in a terminal
does), start again on the same data directory: the call ends in an incident, exactly once.
The stop is orderly: exit code 0, no process left, no traceback in the output or the logs.
On SQLite with the embedded broker, and on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from gt_processes import alive, descendants
from gt_testing import wait_until

from goldentime.procutil import free_port

pytestmark = pytest.mark.integration

CALL = {"id": "why-16-call", "lat": 37.5759, "lon": 126.9768, "type": "building_fire"}


@dataclass
class Up:
    """One `goldentime up --no-demo` in its own process group, its output collected."""

    proc: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)


def start_up(data_dir: Path, *, database_url: str | None) -> Up:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "GOLDENTIME_CONFIG"}
    }
    env |= {"GOLDENTIME_DATA_DIR": str(data_dir), "GOLDENTIME_AUTH": "demo"}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    proc = subprocess.Popen(
        [sys.executable, "-m", "goldentime", "up", "--no-demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a terminal's foreground group of its own
    )
    up = Up(proc, f"http://127.0.0.1:{port}")
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: up.lines.extend(iter(stdout.readline, "")), daemon=True).start()
    ready = wait_until(lambda: f"{up.url}\n" in up.lines or proc.poll() is not None, timeout_s=240)
    assert ready and proc.poll() is None, up.output()
    return up


def stop_group(up: Up) -> int:
    """SIGTERM to the whole process group, as a terminal's Ctrl-C/kill would send it."""
    children = descendants(up.proc.pid)
    os.killpg(up.proc.pid, signal.SIGTERM)
    code = up.proc.wait(timeout=60)
    assert wait_until(lambda: not any(alive(p) for p in children), timeout_s=10), children
    return code


def dispatch_worker_pid(up: Up) -> int:
    for pid in descendants(up.proc.pid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in argv and b"dispatch" in argv:
            return pid
    raise AssertionError("no dispatch worker process")


def no_tracebacks(up: Up, data_dir: Path) -> None:
    assert "Traceback" not in up.output(), up.output()
    for log_file in (data_dir / "logs").glob("*.log"):
        text = log_file.read_text(errors="replace")
        assert "Traceback" not in text, f"{log_file.name}:\n{text[-4000:]}"


def accepted_call_survives_a_full_stop(data_dir: Path, *, database_url: str | None) -> None:
    first = start_up(data_dir, database_url=database_url)
    try:
        health = httpx.get(f"{first.url}/api/health", timeout=10).json()
        assert health["dispatch_ready"] is True
        assert health["intake_durable"] is True
        worker = dispatch_worker_pid(first)
        os.kill(worker, signal.SIGSTOP)  # hung: holds its partitions, processes nothing
        answer = httpx.post(f"{first.url}/api/calls", json=CALL, timeout=30)
        assert answer.status_code == 202, answer.text
        assert httpx.get(f"{first.url}/api/health", timeout=10).json()["intake_pending"] == 1
        assert httpx.get(f"{first.url}/api/calls/{CALL['id']}", timeout=10).status_code == 404
    except BaseException:
        os.killpg(first.proc.pid, signal.SIGKILL)
        raise
    assert stop_group(first) == 0, first.output()
    assert "[supervisor] stopped\n" in first.lines, first.output()
    no_tracebacks(first, data_dir)

    second = start_up(data_dir, database_url=database_url)
    try:
        link = f"{second.url}/api/calls/{CALL['id']}"
        assert wait_until(lambda: httpx.get(link, timeout=10).status_code == 200, timeout_s=60), (
            second.output()
        )
        incident_id = httpx.get(link, timeout=10).json()["incident_id"]
        incidents = httpx.get(f"{second.url}/api/incidents", timeout=10).json()
        assert [i["id"] for i in incidents] == [incident_id], "one incident, exactly once"
        assert incidents[0]["call_ids"] == [CALL["id"]]
        assert wait_until(
            lambda: httpx.get(f"{second.url}/api/health", timeout=10).json()["intake_pending"] == 0,
            timeout_s=30,
        ), "the outbox row is settled once the call is stored"
    finally:
        assert stop_group(second) == 0, second.output()
    no_tracebacks(second, data_dir)


def test_accepted_call_survives_group_sigterm_on_sqlite_and_embedded_broker(
    tmp_path: Path,
) -> None:
    accepted_call_survives_a_full_stop(tmp_path, database_url=None)


def test_accepted_call_survives_group_sigterm_on_postgres(
    tmp_path: Path, postgres_url: str
) -> None:
    accepted_call_survives_a_full_stop(tmp_path, database_url=postgres_url)
