"""Score fire detection against per-frame ground truth, and count false alarms on negatives.

Frames are analysed at the analysis rate (default 5 fps) through the same
:class:`~video_relay.pipeline.CameraPipeline` the live relay uses; each analysed frame is
scored: positive when the detector reports a fire region. ``first_detection_s`` is the media
time from the first ground-truth fire frame to the first ``new`` fire event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2

from goldentime.clock import ManualClock
from goldentime.contracts.video import VideoEvent, VideoEventType, VideoPhase
from video_relay.errors import SourceError, TruthError
from video_relay.pipeline import AnalysisConfig, CameraPipeline
from video_relay.publisher import EventPublisher
from video_relay.registry import Camera
from video_relay.sources import OpenCVSource

PixelBox = tuple[int, int, int, int]
EVAL_CAMERA = Camera(id="eval", name="evaluation", lat=37.57, lon=126.98)


def load_truth(path: Path) -> tuple[dict[int, list[PixelBox]], tuple[int, int]]:
    """Read an OpenCV FileStorage truth file: frames[] of {frameNumber, annotations[[x y w h]]}."""
    if not path.is_file():
        raise TruthError(f"{path}: no such ground-truth file")
    try:
        store = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    except cv2.error as err:
        raise TruthError(f"{path}: not an OpenCV FileStorage file: {err}") from err
    frames = store.getNode("frames")
    if frames.empty() or not frames.isSeq():
        raise TruthError(f"{path}: no `frames` sequence")
    size = (int(store.getNode("frameWidth").real()), int(store.getNode("frameHeight").real()))
    if size[0] <= 0 or size[1] <= 0:
        raise TruthError(f"{path}: frameWidth/frameHeight missing")
    truth: dict[int, list[PixelBox]] = {}
    for i in range(frames.size()):
        node = frames.at(i)
        boxes = []
        notes = node.getNode("annotations")
        for j in range(notes.size() if not notes.empty() else 0):
            values = notes.at(j)
            if values.size() != 4:
                raise TruthError(f"{path}: frames[{i}].annotations[{j}] is not [x y w h]")
            x, y, w, h = (int(values.at(k).real()) for k in range(4))
            boxes.append((x, y, w, h))
        truth[int(node.getNode("frameNumber").real())] = boxes
    return truth, size


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True, slots=True)
class EvalReport:
    frames_analysed: int
    frame_recall: float
    frame_precision: float
    box_precision: float
    mean_iou: float
    first_truth_s: float | None
    first_detection_s: float | None
    fire_events: int
    analysis_fps: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _pipeline(
    config: AnalysisConfig,
) -> tuple[CameraPipeline, list[VideoEvent], ManualClock, EventPublisher]:
    """A pipeline publishing in memory; its events are collected as emitted."""
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    events: list[VideoEvent] = []
    publisher, _kept = EventPublisher.in_memory()
    pipeline = CameraPipeline(
        EVAL_CAMERA, publisher=publisher, config=config, clock=clock, on_event=events.append
    )
    return pipeline, events, clock, publisher


def evaluate_file(
    video: Path, truth_path: Path, *, config: AnalysisConfig | None = None
) -> EvalReport:
    cfg = config or AnalysisConfig()
    truth, (tw, th) = load_truth(truth_path)
    source = OpenCVSource(str(video), loop=False, pace=False)
    source.open()
    pipeline, events, clock, publisher = _pipeline(cfg)
    positive_truth = sorted(i for i, boxes in truth.items() if boxes)
    first_truth = positive_truth[0] / source.fps if positive_truth else None
    tp = fp = fn = 0
    box_hits = box_total = 0
    ious: list[float] = []
    analysed = 0
    first_event: float | None = None
    last_t: float | None = None
    index = -1
    try:
        while True:
            try:
                t = source.grab()
            except SourceError:
                break
            index += 1
            if last_t is not None and t - last_t < 0.95 / cfg.fps:
                continue
            clock.advance(t - (last_t or 0.0))
            last_t = t
            result = pipeline.analyse(source.retrieve().image, t, now=t)
            analysed += 1
            if first_event is None and any(
                e.event_type is VideoEventType.FIRE and e.phase is VideoPhase.NEW
                for e in result.events
            ):
                first_event = t
            boxes = [(r.box.x, r.box.y, r.box.w, r.box.h) for r in result.fire]
            truth_boxes = [(x / tw, y / th, w / tw, h / th) for x, y, w, h in truth.get(index, [])]
            tp += bool(boxes) and bool(truth_boxes)
            fp += bool(boxes) and not truth_boxes
            fn += bool(truth_boxes) and not boxes
            for tb in truth_boxes:
                ious.append(max((iou(tb, b) for b in boxes), default=0.0))
            for b in boxes:
                box_total += 1
                box_hits += any(iou(b, tb) > 0.0 for tb in truth_boxes)
    finally:
        source.close()
        publisher.close()
    fire_events = sum(
        1 for e in events if e.event_type is VideoEventType.FIRE and e.phase is VideoPhase.NEW
    )
    return EvalReport(
        frames_analysed=analysed,
        frame_recall=round(tp / (tp + fn), 4) if tp + fn else 0.0,
        frame_precision=round(tp / (tp + fp), 4) if tp + fp else 0.0,
        box_precision=round(box_hits / box_total, 4) if box_total else 0.0,
        mean_iou=round(sum(ious) / len(ious), 4) if ious else 0.0,
        first_truth_s=round(first_truth, 3) if first_truth is not None else None,
        first_detection_s=(
            round(first_event - first_truth, 3)
            if first_event is not None and first_truth is not None
            else None
        ),
        fire_events=fire_events,
        analysis_fps=cfg.fps,
    )


@dataclass(frozen=True, slots=True)
class NegativeReport:
    clips: dict[str, dict[str, float]]
    camera_hours: float
    false_alarms: int
    false_alarms_per_camera_hour: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def evaluate_negatives(
    clips: list[Path], *, config: AnalysisConfig | None = None
) -> NegativeReport:
    """Count fire and smoke episodes (``new`` events) on clips that contain no fire."""
    cfg = config or AnalysisConfig()
    per_clip: dict[str, dict[str, float]] = {}
    total_s = 0.0
    alarms = 0
    for clip in clips:
        source = OpenCVSource(str(clip), loop=False, pace=False)
        source.open()
        pipeline, events, clock, publisher = _pipeline(cfg)
        last_t: float | None = None
        seconds = 0.0
        try:
            while True:
                try:
                    t = source.grab()
                except SourceError:
                    break
                seconds = t
                if last_t is not None and t - last_t < 0.95 / cfg.fps:
                    continue
                clock.advance(t - (last_t or 0.0))
                last_t = t
                pipeline.analyse(source.retrieve().image, t, now=t)
        finally:
            source.close()
            publisher.close()
        news = [e for e in events if e.phase is VideoPhase.NEW]
        fire = sum(e.event_type is VideoEventType.FIRE for e in news)
        smoke = sum(e.event_type is VideoEventType.SMOKE for e in news)
        per_clip[clip.name] = {"seconds": round(seconds, 1), "fire": fire, "smoke": smoke}
        total_s += seconds
        alarms += fire + smoke
    hours = total_s / 3600
    return NegativeReport(
        clips=per_clip,
        camera_hours=round(hours, 4),
        false_alarms=alarms,
        false_alarms_per_camera_hour=round(alarms / hours, 2) if hours else 0.0,
    )
