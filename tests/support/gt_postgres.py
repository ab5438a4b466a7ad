"""A throw-away PostgreSQL server for tests: Debian's PostgreSQL, run as the postgres user.

``GOLDENTIME_TEST_POSTGRES_URL`` points the tests at an existing server instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unavailable_reason() -> str | None:
    if os.environ.get("GOLDENTIME_TEST_POSTGRES_URL"):
        return None
    if _bin_dir() is None:
        return "Debian postgresql is not installed (apt-get install postgresql; .ci/run does)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "runuser is missing: initdb refuses to run as root"
    return None


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class PostgresServer:
    """A throw-away server that a test may stop and start again (a database outage)."""

    bin_dir: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/goldentime"

    def _run(self, argv: list[str]) -> None:
        subprocess.run(_as_postgres(argv), check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        self._run(
            [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "start",
             "-l", str(self.root / "server.log")]
        )  # fmt: skip

    def stop(self) -> None:
        self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A fresh server with a ``goldentime`` database, stopped and removed after the block."""
    bin_dir = _bin_dir()
    assert bin_dir is not None, unavailable_reason()
    root = Path(tempfile.mkdtemp(prefix="gt-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    server = PostgresServer(bin_dir, root, _free_port())
    server._run([str(bin_dir / "initdb"), "-D", str(server.data), "-U", "postgres", "-A", "trust"])
    server.start()
    try:
        server._run(
            [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(server.port), "-U",
             "postgres", "goldentime"]
        )  # fmt: skip
        yield server
    finally:
        subprocess.run(
            _as_postgres(
                [str(bin_dir / "pg_ctl"), "-D", str(server.data), "-m", "fast", "-w", "stop"]
            ),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def temporary_postgres() -> Iterator[str]:
    """Yield the SQLAlchemy URL of a fresh database on a server that lives for the block."""
    url = os.environ.get("GOLDENTIME_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    with postgres_server() as server:
        yield server.url
