"""Process supervision for `goldentime up`: one process per role, restarted when it crashes.

Children run in their own session (so a terminal Ctrl-C reaches only the supervisor, which
then stops them in order) and get SIGTERM if the supervisor itself dies (PR_SET_PDEATHSIG),
so nothing is ever left behind. Each child's output is written to its log file and, filtered,
to the supervisor's terminal.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from goldentime.errors import SupervisorError
from goldentime.logs import worth_showing
from goldentime.procutil import die_with_parent

log = logging.getLogger(__name__)

RESTART_BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
HEALTHY_AFTER_S = 60.0


@dataclass
class ChildSpec:
    """One supervised role."""

    name: str
    argv: Sequence[str]
    restart: bool = True
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class _Child:
    spec: ChildSpec
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    next_start: float = 0.0
    finished: bool = False
    pump: threading.Thread | None = None


def python_argv(*args: str) -> list[str]:
    """argv that runs the goldentime CLI with this interpreter."""
    return [sys.executable, "-m", "goldentime", *args]


class Supervisor:
    """Starts, watches, restarts and stops the children of `goldentime up`."""

    def __init__(
        self,
        *,
        log_dir: Path,
        base_env: dict[str, str] | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self._children: dict[str, _Child] = {}
        self._log_dir = log_dir
        self._base_env = dict(base_env if base_env is not None else os.environ)
        self._echo = echo or (lambda line: print(line, flush=True))
        self._lock = threading.Lock()
        log_dir.mkdir(parents=True, exist_ok=True)

    def set_env(self, env: dict[str, str]) -> None:
        """The environment every child starts from (its spec's env is laid on top)."""
        self._base_env = dict(env)

    def add(self, spec: ChildSpec) -> None:
        if spec.name in self._children:
            raise SupervisorError(f"two children named {spec.name}")
        self._children[spec.name] = _Child(spec)

    def pids(self) -> dict[str, int]:
        return {
            name: c.proc.pid
            for name, c in self._children.items()
            if c.proc is not None and c.proc.poll() is None
        }

    def restarts(self, name: str) -> int:
        return self._children[name].restarts

    def _pump(self, name: str, stream: IO[bytes], log_file: Path) -> None:
        with log_file.open("ab") as sink:
            for raw in iter(stream.readline, b""):
                sink.write(raw)
                sink.flush()
                line = raw.decode("utf-8", "replace").rstrip()
                if worth_showing(line):
                    with self._lock:
                        self._echo(f"[{name}] {line}")

    def _spawn(self, child: _Child) -> None:
        spec = child.spec
        env = {**self._base_env, **spec.env, "PYTHONUNBUFFERED": "1"}
        try:
            proc = subprocess.Popen(
                list(spec.argv),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
        except OSError as err:
            raise SupervisorError(f"cannot start {spec.name}: {err}") from err
        assert proc.stdout is not None
        child.proc = proc
        child.started_at = time.monotonic()
        child.pump = threading.Thread(
            target=self._pump,
            args=(spec.name, proc.stdout, self._log_dir / f"{spec.name}.log"),
            name=f"log-{spec.name}",
            daemon=True,
        )
        child.pump.start()
        log.info("started %s (pid %d)", spec.name, proc.pid)

    def start(self, name: str) -> None:
        self._spawn(self._children[name])

    def start_all(self) -> None:
        for child in self._children.values():
            if child.proc is None:
                self._spawn(child)

    def poll(self) -> None:
        """Restart crashed children (with backoff); note finished one-shot children."""
        now = time.monotonic()
        for name, child in self._children.items():
            proc = child.proc
            if proc is None or child.finished:
                if child.proc is None and not child.finished and now >= child.next_start > 0:
                    self._spawn(child)
                continue
            code = proc.poll()
            if code is None:
                continue
            if child.pump is not None:
                child.pump.join(timeout=1.0)
            if not child.spec.restart:
                child.finished = True
                self._echo(f"[supervisor] {name} finished (exit code {code})")
                continue
            uptime = now - child.started_at
            if uptime > HEALTHY_AFTER_S:
                child.restarts = 0
            delay = RESTART_BACKOFF_S[min(child.restarts, len(RESTART_BACKOFF_S) - 1)]
            child.restarts += 1
            child.proc = None
            child.next_start = now + delay
            self._echo(
                f"[supervisor] {name} exited with code {code} after {uptime:.1f}s; "
                f"restarting in {delay:.0f}s"
            )

    def respawn_all(self, *, between: Callable[[], None] | None = None) -> list[str]:
        """SIGKILL every long-running child, run ``between``, start them all again at once
        (not counted as crashes); returns their names. For when the embedded broker came back
        empty: a client that lived through it could commit offsets of the old topics into the
        new ones, so none may be running while the broker restarts (``between``)."""
        chosen = [
            (name, child)
            for name, child in self._children.items()
            if child.spec.restart and not child.finished
        ]
        for _name, child in chosen:
            proc = child.proc
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            if child.pump is not None:
                child.pump.join(timeout=1.0)
        if between is not None:
            between()
        for _name, child in chosen:
            child.next_start = 0.0
            self._spawn(child)
        return [name for name, _child in chosen]

    def kill_all(self) -> None:
        """SIGKILL every child now (a second Ctrl-C: the operator wants out)."""
        for child in self._children.values():
            if child.proc is not None and child.proc.poll() is None:
                child.proc.kill()

    def stop_all(self, *, timeout_s: float = 10.0) -> None:
        """SIGTERM every child in reverse start order, then SIGKILL what is left.

        A child paused with SIGSTOP (a hung process, a drill) gets SIGCONT after the SIGTERM,
        so it stops in order too (a dispatch worker finishes and commits its batch in hand).
        """
        alive = [c for c in reversed(list(self._children.values())) if c.proc is not None]
        for child in alive:
            child.next_start = 0.0
            if child.proc is not None and child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
                child.proc.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + timeout_s
        for child in alive:
            proc = child.proc
            if proc is None:
                continue
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                self._echo(f"[supervisor] {child.spec.name} did not stop in time; killing it")
                proc.kill()
                proc.wait(timeout=5)
            if child.pump is not None:
                child.pump.join(timeout=1.0)
            child.proc = None
        for child in self._children.values():
            child.finished = True
