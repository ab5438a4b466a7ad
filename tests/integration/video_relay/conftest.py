from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from goldentime.settings import load_settings

SYSTEM_PYTHON = "/usr/bin/python3"
RTSP_SCRIPT = Path(__file__).with_name("rtsp_server.py")
DEBIAN_PACKAGES = (
    "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base "
    "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def house6() -> Path:
    return load_settings().data.seoul_dir / "video" / "house6.mp4"


def _gst_available() -> bool:
    probe = (
        "import gi; gi.require_version('Gst','1.0'); gi.require_version('GstRtspServer','1.0');"
        "from gi.repository import Gst, GstRtspServer; Gst.init(None);"
        "assert Gst.ElementFactory.find('rtph264pay') and Gst.ElementFactory.find('qtdemux')"
    )
    try:
        return (
            subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, timeout=30).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture
def rtsp_url(house6: Path) -> Iterator[str]:
    if not _gst_available():
        pytest.skip(f"GStreamer RTSP server not installed (apt-get install {DEBIAN_PACKAGES})")
    port = free_port()
    proc = subprocess.Popen(
        [SYSTEM_PYTHON, str(RTSP_SCRIPT), str(port), str(house6)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == "READY", f"RTSP server did not start: {line}"
        yield f"rtsp://127.0.0.1:{port}/cam"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class ServerThread:
    """Runs a FastAPI app under uvicorn on a free loopback port in a thread."""

    def __init__(self, app: object) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "relay did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def run_app() -> type[ServerThread]:
    return ServerThread
