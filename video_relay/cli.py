"""`goldentime video ...`: evaluate the fire detector, serve the relay, list cameras."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click
import cv2
import uvicorn

from goldentime.settings import load_settings
from video_relay.evaluation import evaluate_file, evaluate_negatives
from video_relay.live import FrameHub
from video_relay.media import MediaStore
from video_relay.pipeline import AnalysisConfig, CameraPipeline
from video_relay.publisher import EventPublisher
from video_relay.registry import Camera, default_registry, load_registry
from video_relay.relay import create_app
from video_relay.sources import FrameSource, open_source
from video_relay.synthetic import write_negative_set
from video_relay.worker import CameraWorker, Supervisor

log = logging.getLogger(__name__)


@click.group()
def video() -> None:
    """CCTV and disaster-video relay with fire, smoke and camera-health analytics."""


@video.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--truth",
    "truth",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="OpenCV FileStorage XML with per-frame fire boxes.",
)
@click.option("--fps", default=5.0, show_default=True, help="Analysis rate (frames/s).")
@click.option(
    "--negatives/--no-negatives",
    default=False,
    help="Also count false alarms on the synthetic non-fire clips.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def eval_command(file: Path, truth: Path, fps: float, negatives: bool, as_json: bool) -> None:
    """Score fire detection on FILE against the ground truth."""
    cv2.setNumThreads(1)
    config = AnalysisConfig(fps=fps)
    result = evaluate_file(file, truth, config=config).as_dict()
    if negatives:
        with tempfile.TemporaryDirectory(prefix="gt-negatives-") as tmp:
            report = evaluate_negatives(write_negative_set(Path(tmp)), config=config)
        result["false_alarms_per_camera_hour"] = report.false_alarms_per_camera_hour
        result["negatives"] = report.as_dict()
    if as_json:
        click.echo(json.dumps(result))
        return
    for key, value in result.items():
        click.echo(f"{key:24s} {value}")


@video.command("cameras")
@click.option("--cameras", "cameras_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sites/--no-sites", default=True, help="Include the Gangnam CCTV sites.")
def cameras_command(cameras_file: Path | None, sites: bool) -> None:
    """Print the camera registry as JSON lines."""
    settings = load_settings()
    cameras = (
        load_registry(cameras_file)
        if cameras_file
        else default_registry(settings.data.seoul_dir, include_sites=sites)
    )
    for camera in cameras:
        click.echo(camera.model_dump_json(exclude_defaults=True))


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class _QuietServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM after shutdown; we handle signals ourselves and exit 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _source_factory(camera: Camera) -> FrameSource:
    assert camera.source is not None
    return open_source(camera.source, loop=camera.loop)


@video.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8554, show_default=True, help="Relay HTTP port (0: any free).")
@click.option(
    "--cameras",
    "cameras_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Registry JSON; default: the built-in demo cameras.",
)
@click.option("--no-publish", is_flag=True, help="Do not send events to Kafka; log them.")
@click.option("--fps", default=5.0, show_default=True, help="Analysis rate per camera.")
def serve_command(
    host: str, port: int, cameras_file: Path | None, no_publish: bool, fps: float
) -> None:
    """Run the relay and the analytics for every streaming camera of the registry."""
    settings = load_settings()
    cameras = (
        load_registry(cameras_file)
        if cameras_file
        else default_registry(settings.data.seoul_dir, include_sites=False)
    )
    streaming = [c for c in cameras if c.streams]
    publisher = (
        EventPublisher.in_memory(log_events=True)[0]
        if no_publish
        else EventPublisher.from_settings(settings)
    )
    sock = _bind(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}"
    media_root = settings.data.dir / "video" / "media"
    media = MediaStore(media_root, base_url=url)
    hub = FrameHub()
    config = AnalysisConfig(fps=fps)
    workers = [
        CameraWorker(
            CameraPipeline(cam, publisher=publisher, config=config, media=media),
            lambda cam=cam: _source_factory(cam),  # type: ignore[misc]
            hub=hub,
        )
        for cam in streaming
    ]
    supervisor = Supervisor(workers)
    app = create_app(
        hub=hub,
        cameras=streaming,
        health=lambda cid: supervisor.workers[cid].health() if cid in supervisor.workers else None,
        media_root=media_root,
    )
    server = _QuietServer(uvicorn.Config(app, log_level="warning", lifespan="off"))

    def _stop(signum: int, _frame: object) -> None:
        log.warning("video relay: signal %d, shutting down", signum)
        server.should_exit = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    supervisor.start()
    click.echo(url)
    click.echo(
        f"video relay: {len(streaming)} camera(s), events "
        f"{'logged only' if no_publish else 'to Kafka'}",
        err=True,
    )
    try:
        server.run(sockets=[sock])  # uvicorn stops on SIGTERM / SIGINT
    finally:
        supervisor.stop()
        publisher.close()
        sock.close()
