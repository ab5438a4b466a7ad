"""Episodes: turn per-frame detections into new / update / end records.

One episode per (camera, event type, zone). ``new`` needs ``min_hits`` consecutive detections
at or above ``open_confidence``; ``update`` is sent when confidence moves by
``update_delta`` or every ``update_interval_s``; ``end`` after ``end_grace_s`` without a hit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from goldentime.contracts.video import Box, VideoEvent, VideoEventType, VideoPhase
from video_relay.registry import Camera


@dataclass(frozen=True, slots=True)
class EpisodePolicy:
    open_confidence: float = 0.5
    min_hits: int = 2
    update_interval_s: float = 30.0
    update_delta: float = 0.15
    end_grace_s: float = 10.0


@dataclass(frozen=True, slots=True)
class Observation:
    """What the analytics saw for one event type at one moment."""

    confidence: float
    boxes: list[Box] = field(default_factory=list)
    zones: list[str] = field(default_factory=list)
    detail: str = ""


@dataclass(slots=True)
class _Episode:
    episode_id: str
    started_at: datetime
    revision: int = 0
    hits: int = 0
    open: bool = False
    last_hit: float = 0.0
    last_sent: float = 0.0
    last_confidence: float = 0.0
    last: Observation | None = None


Attach = Callable[[VideoEvent], VideoEvent]


class EpisodeTracker:
    """Episodes of one camera; ``observe`` returns the records to publish (possibly none)."""

    def __init__(self, camera: Camera, *, policies: dict[VideoEventType, EpisodePolicy]) -> None:
        self.camera = camera
        self._policies = policies
        self._episodes: dict[tuple[VideoEventType, str], _Episode] = {}

    def observe(
        self,
        kind: VideoEventType,
        seen: Observation | None,
        *,
        now: float,
        at: datetime,
        key: str = "",
    ) -> list[VideoEvent]:
        policy = self._policies.get(kind, EpisodePolicy())
        episode = self._episodes.get((kind, key))
        if seen is not None and seen.confidence >= policy.open_confidence:
            if episode is None:
                stamp = at.strftime("%Y%m%dT%H%M%S%f")[:-3]
                suffix = f"-{key}" if key else ""
                episode = _Episode(f"{self.camera.id}:{kind.value}{suffix}:{stamp}", started_at=at)
                self._episodes[(kind, key)] = episode
            episode.hits += 1
            episode.last_hit = now
            if not episode.open and episode.hits >= policy.min_hits:
                episode.open = True
                return [self._record(episode, kind, VideoPhase.NEW, seen, now, at)]
            if episode.open and (
                abs(seen.confidence - episode.last_confidence) >= policy.update_delta
                or now - episode.last_sent >= policy.update_interval_s
            ):
                return [self._record(episode, kind, VideoPhase.UPDATE, seen, now, at)]
            episode.last = seen if episode.open else episode.last
            return []
        if episode is None:
            return []
        if not episode.open:
            del self._episodes[(kind, key)]  # a lone hit that never opened: forget it
            return []
        if now - episode.last_hit >= policy.end_grace_s:
            del self._episodes[(kind, key)]
            last = episode.last or Observation(confidence=episode.last_confidence)
            ended = Observation(
                confidence=last.confidence,
                boxes=last.boxes,
                zones=last.zones,
                detail="no longer seen",
            )
            return [self._record(episode, kind, VideoPhase.END, ended, now, at)]
        return []

    def _record(
        self,
        episode: _Episode,
        kind: VideoEventType,
        phase: VideoPhase,
        seen: Observation,
        now: float,
        at: datetime,
    ) -> VideoEvent:
        episode.revision += 1
        episode.last_sent, episode.last_confidence, episode.last = now, seen.confidence, seen
        cam = self.camera
        return VideoEvent(
            id=f"{episode.episode_id}:{episode.revision}",
            episode_id=episode.episode_id,
            revision=episode.revision,
            detected_at=max(at, episode.started_at),
            started_at=episode.started_at,
            camera_id=cam.id,
            camera_name=cam.name,
            camera_kind=cam.kind,
            lat=cam.lat,
            lon=cam.lon,
            gu=cam.gu,
            event_type=kind,
            phase=phase,
            confidence=round(min(1.0, max(0.0, seen.confidence)), 3),
            boxes=seen.boxes[:32],
            zones=seen.zones[:16],
            detail=seen.detail[:1000],
        )
