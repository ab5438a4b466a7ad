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


@contextmanager
def temporary_postgres() -> Iterator[str]:
    """Yield the SQLAlchemy URL of a fresh database on a server that lives for the block."""
    url = os.environ.get("GOLDENTIME_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    bin_dir = _bin_dir()
    assert bin_dir is not None, unavailable_reason()
    root = Path(tempfile.mkdtemp(prefix="gt-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    run = lambda argv: subprocess.run(  # noqa: E731
        _as_postgres(argv), check=True, capture_output=True, text=True, timeout=120
    )
    run([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"])
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    run(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "start",
            "-l",
            str(root / "server.log"),
        ]
    )
    try:
        run(
            [
                str(bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "goldentime",
            ]
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/goldentime"
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
