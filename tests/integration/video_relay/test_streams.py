"""Real streams: RTSP from a GStreamer server, HTTP MJPEG from the relay itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from goldentime.broker.publisher import InMemoryPublisher
from goldentime.contracts.video import VideoEvent, VideoEventType, VideoPhase
from goldentime.topics import VIDEO_EVENTS
from video_relay.live import FrameHub
from video_relay.pipeline import CameraPipeline
from video_relay.publisher import EventPublisher
from video_relay.registry import Camera
from video_relay.relay import BOUNDARY, create_app
from video_relay.sources import OpenCVSource, open_source
from video_relay.worker import CameraWorker, Supervisor, WorkerOptions

pytestmark = pytest.mark.integration
CAMERA = Camera(id="cam-it", name="integration", lat=37.57, lon=126.99)


def _relay(camera: Camera, factory: Any, publisher: EventPublisher) -> tuple[Any, Supervisor]:
    hub = FrameHub()
    worker = CameraWorker(
        CameraPipeline(camera, publisher=publisher),
        factory,
        hub=hub,
        options=WorkerOptions(backoff_base_s=0.2, backoff_cap_s=0.5),
    )
    supervisor = Supervisor([worker])
    app = create_app(hub=hub, cameras=[camera], health=lambda cid: worker.health())
    return app, supervisor


@pytest.fixture
def published() -> Iterator[tuple[EventPublisher, InMemoryPublisher]]:
    publisher, kept = EventPublisher.in_memory()
    yield publisher, kept
    publisher.close()


def _events(kept: InMemoryPublisher) -> list[VideoEvent]:
    return kept.decoded(VIDEO_EVENTS, VideoEvent)


def _wait_for(predicate: Any, timeout: float) -> bool:
    done = threading.Event()
    for _ in range(int(timeout / 0.1)):
        if predicate():
            return True
        done.wait(0.1)
    return bool(predicate())


def test_rtsp_stream_is_read_and_its_fire_reported(
    rtsp_url: str, published: tuple[EventPublisher, InMemoryPublisher]
) -> None:
    source = OpenCVSource(rtsp_url, open_timeout_s=10, read_timeout_s=10)
    source.open()
    try:
        for _ in range(5):
            source.grab()
        frame = source.retrieve()
    finally:
        source.close()
    assert frame.image.shape == (240, 426, 3)
    publisher, kept = published
    camera = CAMERA.model_copy(update={"source": rtsp_url})
    _, supervisor = _relay(camera, lambda: OpenCVSource(rtsp_url), publisher)
    supervisor.start()
    try:
        assert _wait_for(
            lambda: any(e.event_type is VideoEventType.FIRE for e in _events(kept)), 20
        )
    finally:
        supervisor.stop()
    assert _events(kept)[0].phase is VideoPhase.NEW


def test_mjpeg_relay_serves_many_viewers_and_is_readable_by_opencv(
    house6: Path, run_app: Any, published: tuple[EventPublisher, InMemoryPublisher]
) -> None:
    app, supervisor = _relay(CAMERA, lambda: open_source(str(house6)), published[0])
    supervisor.start()
    try:
        with run_app(app) as server:
            url = f"{server.url}/cameras/{CAMERA.id}/stream.mjpg"
            chunks: list[bytes] = []

            def view() -> None:
                with httpx.stream("GET", url, timeout=10) as response:
                    assert response.headers["content-type"].startswith("multipart/x-mixed")
                    data = b""
                    for chunk in response.iter_bytes():
                        data += chunk
                        if data.count(f"--{BOUNDARY}".encode()) >= 3:
                            break
                    chunks.append(data)

            viewers = [threading.Thread(target=view) for _ in range(3)]
            for v in viewers:
                v.start()
            for v in viewers:
                v.join(20)
            assert len(chunks) == 3 and all(b"\xff\xd8" in c for c in chunks)
            source = OpenCVSource(url, open_timeout_s=10, read_timeout_s=10)
            source.open()
            try:
                source.grab()
                assert source.retrieve().image.shape == (360, 640, 3)
            finally:
                source.close()
            snap = httpx.get(f"{server.url}/cameras/{CAMERA.id}/snapshot.jpg", timeout=10)
            assert snap.status_code == 200 and snap.content[:2] == b"\xff\xd8"
            assert httpx.get(f"{server.url}/cameras/nope/snapshot.jpg").status_code == 404
    finally:
        supervisor.stop()


def test_viewer_stays_connected_while_source_reconnects(
    tmp_path: Path, run_app: Any, published: tuple[EventPublisher, InMemoryPublisher]
) -> None:
    missing = tmp_path / "gone.mp4"  # the camera is unreachable from the start
    app, supervisor = _relay(CAMERA, lambda: OpenCVSource(str(missing)), published[0])
    supervisor.start()
    try:
        with run_app(app) as server:
            url = f"{server.url}/cameras/{CAMERA.id}/stream.mjpg"
            with httpx.stream("GET", url, timeout=10) as response:
                data = b""
                for chunk in response.iter_bytes():
                    data += chunk
                    if data.count(f"--{BOUNDARY}".encode()) >= 8:
                        break
            assert data.count(b"\xff\xd8") >= 7  # the placeholder frame, repeated
            health = httpx.get(f"{server.url}/cameras/{CAMERA.id}/health").json()
            assert health["reconnects"] >= 1 and "no such video file" in health["last_error"]
    finally:
        supervisor.stop()


def test_serve_prints_url_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "GOLDENTIME_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "goldentime", "video", "serve", "--port", "0", "--no-publish"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        cameras = httpx.get(f"{url}/cameras", timeout=10).json()
        assert {c["id"] for c in cameras} >= {"demo-jongno-01"}
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
    assert code == 0
