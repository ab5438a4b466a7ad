"""`goldentime up` as an operator runs it: console answers, a call shows up, SIGTERM cleans up."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from gt_processes import alive, descendants
from gt_testing import wait_until

from goldentime.procutil import free_port

pytestmark = pytest.mark.integration


def test_up_starts_everything_and_sigterm_leaves_no_process(tmp_path: Path) -> None:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "GOLDENTIME_CONFIG"}
    }
    env["GOLDENTIME_DATA_DIR"] = str(tmp_path)
    env["GOLDENTIME_AUTH"] = "demo"  # as `make demo` runs it
    proc = subprocess.Popen(
        [sys.executable, "-m", "goldentime", "up", "--no-demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(proc.stdout.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_until(lambda: f"{url}\n" in lines, timeout_s=240), "".join(lines)
        assert httpx.get(f"{url}/api/health").json()["status"] == "ok"
        cli = subprocess.run(
            [
                sys.executable,
                "-m",
                "goldentime",
                "call",
                "--lat",
                "37.5759",
                "--lon",
                "126.9768",
                "--type",
                "cardiac_arrest",
                "--url",
                url,
                "--json",
                "광화문 앞 심정지",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert cli.returncode == 0, cli.stderr
        assert '"incident_id"' in cli.stdout
        incidents = httpx.get(f"{url}/api/incidents").json()
        assert [i["type"] for i in incidents] == ["cardiac_arrest"]
        children = descendants(proc.pid)
        assert len(children) >= 3, "broker, worker and console run as processes"
        assert not any(re.search(r"Traceback", line) for line in lines), "".join(lines)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    reader.join(timeout=5)
    assert code == 0, "".join(lines)
    assert "[supervisor] stopped\n" in lines
    assert wait_until(lambda: not any(alive(p) for p in children), timeout_s=5), children
