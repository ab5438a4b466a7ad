from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from ops.supervisor import ChildSpec, Supervisor

SLEEPER = [sys.executable, "-c", "import time\nwhile True: time.sleep(0.1)"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); read its state
    state = (
        Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}").exists() else "X"
    )
    return state not in {"Z", "X"}


def wait_for(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_crashed_child_is_restarted_and_stop_leaves_nothing(tmp_path: Path) -> None:
    lines: list[str] = []
    sup = Supervisor(log_dir=tmp_path, echo=lines.append)
    sup.add(ChildSpec("worker", SLEEPER))
    sup.start_all()
    first = sup.pids()["worker"]
    os.kill(first, 9)

    def restarted() -> bool:
        sup.poll()
        pid = sup.pids().get("worker")
        return pid is not None and pid != first

    assert wait_for(restarted)
    assert sup.restarts("worker") == 1
    assert any("exited with code -9" in line for line in lines)
    second = sup.pids()["worker"]
    sup.stop_all(timeout_s=5)
    assert not alive(second)
    assert sup.pids() == {}


def test_one_shot_child_is_not_restarted_and_output_is_logged(tmp_path: Path) -> None:
    lines: list[str] = []
    sup = Supervisor(log_dir=tmp_path, echo=lines.append)
    sup.add(ChildSpec("demo", [sys.executable, "-c", "print('hello from demo')"], restart=False))
    sup.start_all()

    def finished() -> bool:
        sup.poll()
        return any("demo finished" in line for line in lines)

    assert wait_for(finished)
    assert "[demo] hello from demo" in lines
    assert "hello from demo" in (tmp_path / "demo.log").read_text()
    sup.stop_all()


def test_child_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\nwhile True: time.sleep(0.1)",
    ]
    lines: list[str] = []
    sup = Supervisor(log_dir=tmp_path, echo=lines.append)
    sup.add(ChildSpec("stubborn", stubborn))
    sup.start_all()
    assert wait_for(lambda: "[stubborn] ready" in lines)
    pid = sup.pids()["stubborn"]
    sup.stop_all(timeout_s=0.5)
    assert not alive(pid)
    assert any("did not stop in time" in line for line in lines)


def test_paused_child_stops_in_order_with_sigcont(tmp_path: Path) -> None:
    """A child paused with SIGSTOP (a hung process) still gets to run its SIGTERM handler."""
    marker, ready = tmp_path / "stopped-in-order", tmp_path / "handler-installed"
    script = (
        "import signal, sys, time\n"
        f"def stop(*_):\n    open({str(marker)!r}, 'w').write('ok'); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        f"open({str(ready)!r}, 'w').write('ok')\n"
        "while True: time.sleep(0.1)\n"
    )
    sup = Supervisor(log_dir=tmp_path, echo=lambda _line: None)
    sup.add(ChildSpec("worker", [sys.executable, "-c", script]))
    sup.start_all()
    pid = sup.pids()["worker"]
    assert wait_for(ready.exists)
    os.kill(pid, signal.SIGSTOP)
    sup.stop_all(timeout_s=5)
    assert marker.read_text() == "ok", "SIGTERM handled, not killed after the timeout"
    assert not alive(pid)


def test_respawn_all_restarts_long_running_children_around_a_step(tmp_path: Path) -> None:
    sup = Supervisor(log_dir=tmp_path, echo=lambda _line: None)
    sup.add(ChildSpec("worker", SLEEPER))
    sup.add(ChildSpec("demo", SLEEPER, restart=False))
    sup.start_all()
    before = sup.pids()
    seen: list[dict[str, int]] = []
    names = sup.respawn_all(between=lambda: seen.append(sup.pids()))
    assert names == ["worker"]
    assert "worker" not in seen[0], "nothing of it runs during the step"
    after = sup.pids()
    assert after["worker"] != before["worker"] and not alive(before["worker"])
    assert after["demo"] == before["demo"], "one-shot children are left alone"
    assert sup.restarts("worker") == 0, "not counted as a crash"
    sup.stop_all(timeout_s=5)
