"""One camera's analytics: resize, fire/smoke, motion, health, episodes, media, publish.

The pipeline is fed decoded frames (any size) at the analysis rate and the times when the
source fails; it is independent of where frames come from, so evaluation, the live worker and
the tests drive the very same code.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from goldentime.clock import Clock, SystemClock
from goldentime.contracts.video import Box, VideoEvent, VideoEventType, VideoPhase
from video_relay.events import EpisodePolicy, EpisodeTracker, Observation
from video_relay.fire import FireConfig, FireSmokeDetector, Region
from video_relay.health import HealthConfig, HealthMonitor, frame_stats
from video_relay.media import MediaStore, draw_boxes
from video_relay.motion import MOTION_WIDTH, MotionDetector, zone_mask
from video_relay.publisher import EventPublisher
from video_relay.registry import Camera

log = logging.getLogger(__name__)
Image = npt.NDArray[Any]

DEFAULT_POLICIES = {
    VideoEventType.FIRE: EpisodePolicy(open_confidence=0.55, min_hits=2, end_grace_s=20.0),
    VideoEventType.SMOKE: EpisodePolicy(open_confidence=0.4, min_hits=3, end_grace_s=20.0),
    VideoEventType.MOTION: EpisodePolicy(open_confidence=0.1, min_hits=2, end_grace_s=5.0),
    **{
        kind: EpisodePolicy(
            open_confidence=0.5, min_hits=1, end_grace_s=0.0, update_interval_s=300.0
        )
        for kind in (
            VideoEventType.OFFLINE,
            VideoEventType.FROZEN,
            VideoEventType.BLACK,
            VideoEventType.TAMPER,
        )
    },
}


@dataclass(frozen=True, slots=True)
class AnalysisConfig:
    fps: float = 5.0
    width: int = 640
    height: int = 360
    clip_seconds: float = 4.0
    fire: FireConfig = field(default_factory=FireConfig)
    health: HealthConfig = field(default_factory=HealthConfig)

    def __post_init__(self) -> None:
        if not 0.2 <= self.fps <= 60 or self.width < 64 or self.height < 36:
            raise ValueError("analysis needs 0.2..60 fps and at least 64x36 pixels")


@dataclass(frozen=True, slots=True)
class FrameResult:
    fire: list[Region]
    smoke: list[Region]
    motion_share: float
    events: list[VideoEvent]


def _merge(regions: list[Region]) -> Observation | None:
    if not regions:
        return None
    best = max(r.confidence for r in regions)
    return Observation(confidence=best, boxes=[r.box for r in regions])


def _zones_of(boxes: list[Box], masks: dict[str, npt.NDArray[Any]]) -> list[str]:
    names = []
    for name, mask in masks.items():
        h, w = mask.shape
        for b in boxes:
            cx, cy = min(w - 1, int((b.x + b.w / 2) * w)), min(h - 1, int((b.y + b.h / 2) * h))
            if mask[cy, cx]:
                names.append(name)
                break
    return names


class CameraPipeline:
    """Analytics and event publishing for one camera."""

    def __init__(
        self,
        camera: Camera,
        *,
        publisher: EventPublisher,
        config: AnalysisConfig | None = None,
        clock: Clock | None = None,
        media: MediaStore | None = None,
        policies: dict[VideoEventType, EpisodePolicy] | None = None,
        on_event: Callable[[VideoEvent], None] | None = None,
    ) -> None:
        self.camera = camera
        self.config = cfg = config or AnalysisConfig()
        self._publisher, self._clock, self._media = publisher, clock or SystemClock(), media
        self._on_event = on_event
        self.fire = FireSmokeDetector(config=cfg.fire)
        self.motion = MotionDetector(zones=camera.zones)
        self.health = HealthMonitor(config=cfg.health)
        self.episodes = EpisodeTracker(camera, policies=policies or DEFAULT_POLICIES)
        self._recent: deque[Image] = deque(maxlen=max(1, int(cfg.clip_seconds * cfg.fps)))
        self._zone_masks = {
            z.name: zone_mask(z, width=64, height=36) for z in camera.zones if not z.ignore
        }
        rows, cols = self.fire.grid_shape(cfg.width, cfg.height)
        ignored = [zone_mask(z, width=cols, height=rows) for z in camera.zones if z.ignore]
        self.fire.set_ignore_cells(np.logical_or.reduce(ignored) if ignored else None)
        self.frames_analysed = 0

    def analyse(self, image: Image, t: float, *, now: float | None = None) -> FrameResult:
        """Analyse one frame at media/stream time ``t``; publish and return its events."""
        cfg = self.config
        mono = self._clock.monotonic() if now is None else now
        at = self._clock.now()
        if image.shape[1] != cfg.width or image.shape[0] != cfg.height:
            image = cv2.resize(image, (cfg.width, cfg.height), interpolation=cv2.INTER_AREA)
        fire, smoke = self.fire.process(image, t)
        small = cv2.resize(
            image,
            (MOTION_WIDTH, MOTION_WIDTH * cfg.height // cfg.width),
            interpolation=cv2.INTER_AREA,
        )
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        motion_share, motion_zones = self.motion.process(gray)
        self.health.on_frame(frame_stats(gray), mono)
        self._recent.append(image)
        self.frames_analysed += 1
        events: list[VideoEvent] = []
        for kind, regions in ((VideoEventType.FIRE, fire), (VideoEventType.SMOKE, smoke)):
            seen = _merge(regions)
            if seen is not None:
                seen = Observation(
                    seen.confidence,
                    seen.boxes,
                    _zones_of(seen.boxes, self._zone_masks),
                    f"{len(regions)} region(s); advisory",
                )
            events += self.episodes.observe(kind, seen, now=mono, at=at)
        for zone in (z for z in self.camera.zones if z.motion):
            boxes = motion_zones.get(zone.name)
            seen = Observation(1.0, boxes, [zone.name], "movement in zone") if boxes else None
            events += self.episodes.observe(
                VideoEventType.MOTION, seen, now=mono, at=at, key=zone.name
            )
        events += self._health_events(mono, at)
        return FrameResult(fire, smoke, motion_share, self._emit(events, image))

    def no_frame(self, *, reason: str, now: float | None = None) -> list[VideoEvent]:
        """The source failed (or is reconnecting); may raise the offline problem."""
        mono = self._clock.monotonic() if now is None else now
        self.health.on_no_frame(mono, reason=reason)
        return self._emit(self._health_events(mono, self._clock.now()), None)

    def _health_events(self, mono: float, at: datetime) -> list[VideoEvent]:
        active = self.health.active()
        events: list[VideoEvent] = []
        for kind in (
            VideoEventType.OFFLINE,
            VideoEventType.FROZEN,
            VideoEventType.BLACK,
            VideoEventType.TAMPER,
        ):
            seen = (
                Observation(1.0, detail=self.health.detail.get(kind, ""))
                if kind in active
                else None
            )
            events += self.episodes.observe(kind, seen, now=mono, at=at)
        return events

    def _emit(self, events: list[VideoEvent], image: Image | None) -> list[VideoEvent]:
        out = []
        for event in events:
            event = self._attach_media(event, image)
            try:
                self._publisher.publish(event)
            except Exception:  # a publisher bug must not stop the camera
                log.exception("camera %s: publisher failed for %s", self.camera.id, event.id)
            if self._on_event is not None:
                self._on_event(event)
            out.append(event)
        return out

    def _attach_media(self, event: VideoEvent, image: Image | None) -> VideoEvent:
        if self._media is None or image is None or event.phase is VideoPhase.END:
            return event
        if event.is_health and event.event_type is not VideoEventType.TAMPER:
            return event
        name = f"{event.episode_id}-{event.revision}"
        colour = (0, 0, 255) if event.event_type is VideoEventType.FIRE else (0, 255, 255)
        ref = self._media.snapshot(
            self.camera.id, name, draw_boxes(image, event.boxes, colour=colour)
        )
        clip = None
        if event.phase is VideoPhase.NEW:
            clip = self._media.clip(self.camera.id, name, list(self._recent), self.config.fps)
        return event.model_copy(
            update={
                "snapshot_ref": ref,
                "snapshot_url": self._media.url(ref) if ref else None,
                "clip_ref": clip,
            }
        )
