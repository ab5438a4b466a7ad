"""`goldentime bench video`: analysed frames/s per core at 360p and 720p vs plain decode.

One core, honestly: ``cv2.setNumThreads(1)``. Deterministic inputs: a synthetic scene
(seeded) written as MPEG-4 at each resolution (the OpenCV wheel has no H.264 encoder; the
H.264 decode rate of house6.mp4 is reported too). Analysis = the full per-camera pipeline
(fire/smoke, motion, health, episodes) on already-decoded frames; decode = grab + retrieve.
Also reports the house6 evaluation and false alarms per camera-hour on the negatives.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import cv2
import numpy as np
import numpy.typing as npt

from goldentime.clock import ManualClock
from goldentime.settings import load_settings
from video_relay.evaluation import EVAL_CAMERA, evaluate_file, evaluate_negatives
from video_relay.pipeline import AnalysisConfig, CameraPipeline
from video_relay.publisher import EventPublisher
from video_relay.synthetic import Scene, write_clip, write_negative_set

Image = npt.NDArray[Any]


def _decode(path: Path, repeats: int) -> tuple[float, list[Image]]:
    rates: list[float] = []
    frames: list[Image] = []
    for _ in range(repeats):
        cap = cv2.VideoCapture(str(path))
        n, start = 0, time.perf_counter()
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if len(frames) < 200:
                frames.append(frame)
            n += 1
        rates.append(n / (time.perf_counter() - start))
        cap.release()
    return statistics.median(rates), frames


def _analyse(frames: list[Image], width: int, height: int, repeats: int) -> tuple[float, float]:
    rates, p95s = [], []
    for _ in range(repeats):
        clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
        publisher, _kept = EventPublisher.in_memory()
        pipeline = CameraPipeline(
            EVAL_CAMERA,
            publisher=publisher,
            clock=clock,
            config=AnalysisConfig(width=width, height=height),
        )
        times = []
        start = time.perf_counter()
        for i, frame in enumerate(frames):
            t0 = time.perf_counter()
            pipeline.analyse(frame, i / 5.0, now=i / 5.0)
            times.append(time.perf_counter() - t0)
            clock.advance(0.2)
        rates.append(len(frames) / (time.perf_counter() - start))
        publisher.close()
        p95s.append(float(np.percentile(times, 95)) * 1000)
    return statistics.median(rates), statistics.median(p95s)


@click.command("video")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--repeats", default=3, show_default=True)
def command(as_json: bool, repeats: int) -> None:
    """Analysed fps per core (360p, 720p) against decode; house6 scores; false alarms."""
    cv2.setNumThreads(1)
    result: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="gt-bench-video-") as tmp:
        for label, (w, h) in (("360p", (640, 360)), ("720p", (1280, 720))):
            clip = write_clip(
                Path(tmp) / f"bench_{label}.mp4",
                Scene("moving_orange", width=w, height=h),
                seconds=20,
                fps=10,
            )
            decode_fps, frames = _decode(clip, repeats)
            analysed_fps, p95_ms = _analyse(frames, w, h, repeats)
            result[f"decode_fps_{label}"] = round(decode_fps, 1)
            result[f"analysed_fps_{label}"] = round(analysed_fps, 1)
            result[f"analyse_p95_ms_{label}"] = round(p95_ms, 2)
            result[f"analyse_vs_decode_{label}"] = round(analysed_fps / decode_fps, 3)
            result[f"cameras_at_5fps_per_core_{label}"] = int(analysed_fps // 5)
        data = load_settings().data.seoul_dir / "video"
        house = data / "house6.mp4"
        result["decode_fps_house6_h264_240p"] = round(_decode(house, repeats)[0], 1)
        report = evaluate_file(house, data / "house6.xml")
        result.update({f"house6_{k}": v for k, v in report.as_dict().items()})
        negatives = evaluate_negatives(write_negative_set(Path(tmp) / "neg"))
        result["false_alarms_per_camera_hour"] = negatives.false_alarms_per_camera_hour
        result["negative_camera_hours"] = negatives.camera_hours
        result["negative_false_alarms"] = negatives.false_alarms
    if as_json:
        click.echo(json.dumps(result))
        return
    for key, value in result.items():
        click.echo(f"{key:36s} {value}")
