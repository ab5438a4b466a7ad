"""Wire contracts of the video relay: events on ``video.events`` and camera health.

Every record on ``video.events`` is a :class:`VideoEvent`: analytics (fire, smoke, motion) and
camera health (offline, frozen, black, tamper) share one record so a consumer decodes one model.
An *episode* (one fire, one outage) is told in phases ``new`` -> ``update``* -> ``end``; all its
records share ``episode_id`` and carry an increasing ``revision``; the record ``id`` is
``{episode_id}:{revision}``, so a replayed record changes nothing. Fire and smoke are
**advisory**: ``confidence`` says how sure the detector is and a human confirms.

:class:`CameraHealth` is the current state of one camera as served by the relay's HTTP API
(``GET /cameras/{id}/health``) for the console.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from goldentime.contracts.core import AwareDatetime, Latitude, Longitude, Record, RecordId


class CameraKind(StrEnum):
    CCTV = "cctv"
    VEHICLE = "vehicle"
    DRONE = "drone"


class VideoEventType(StrEnum):
    FIRE = "fire"
    SMOKE = "smoke"
    MOTION = "motion"
    OFFLINE = "offline"
    FROZEN = "frozen"
    BLACK = "black"
    TAMPER = "tamper"


HEALTH_EVENT_TYPES = frozenset(
    {VideoEventType.OFFLINE, VideoEventType.FROZEN, VideoEventType.BLACK, VideoEventType.TAMPER}
)


class VideoPhase(StrEnum):
    NEW = "new"
    UPDATE = "update"
    END = "end"


class Box(BaseModel):
    """An axis-aligned box in normalised frame coordinates (0..1, origin top-left)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    x: float = Field(ge=0.0, le=1.0)
    y: float = Field(ge=0.0, le=1.0)
    w: float = Field(gt=0.0, le=1.0)
    h: float = Field(gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _inside_frame(self) -> Self:
        if self.x + self.w > 1.0 + 1e-6 or self.y + self.h > 1.0 + 1e-6:
            raise ValueError("box extends beyond the frame (x+w or y+h > 1)")
        return self


class VideoEvent(Record):
    """One phase of one video episode (topic ``video.events``, keyed by camera id)."""

    episode_id: RecordId = Field(description="Shared by the new/update/end records of one episode.")
    revision: int = Field(ge=1, description="1 for `new`, +1 for every later record.")
    detected_at: AwareDatetime = Field(description="Event time of this record.")
    started_at: AwareDatetime = Field(description="When the episode began.")
    camera_id: RecordId
    camera_name: str = Field(default="", max_length=200)
    camera_kind: CameraKind = CameraKind.CCTV
    lat: Latitude
    lon: Longitude
    gu: str | None = Field(default=None, max_length=40, description="District (구), if known.")
    event_type: VideoEventType
    phase: VideoPhase
    confidence: float = Field(ge=0.0, le=1.0, description="Detector confidence (advisory).")
    advisory: bool = Field(default=True, description="A human must confirm before acting.")
    boxes: list[Box] = Field(default_factory=list, max_length=32)
    zones: list[str] = Field(default_factory=list, max_length=16)
    snapshot_url: str | None = Field(default=None, max_length=500)
    snapshot_ref: str | None = Field(default=None, max_length=300, description="Stored file.")
    clip_ref: str | None = Field(default=None, max_length=300, description="Stored short clip.")
    detail: str = Field(default="", max_length=1000)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.id != f"{self.episode_id}:{self.revision}":
            raise ValueError("id must be '{episode_id}:{revision}'")
        if (self.phase is VideoPhase.NEW) != (self.revision == 1):
            raise ValueError("revision 1 is exactly the `new` phase")
        if self.started_at > self.detected_at:
            raise ValueError("started_at is after detected_at")
        return self

    @property
    def event_time(self) -> datetime:
        return self.detected_at

    @property
    def is_health(self) -> bool:
        return self.event_type in HEALTH_EVENT_TYPES


class CameraState(StrEnum):
    STARTING = "starting"
    OK = "ok"
    DEGRADED = "degraded"
    OFFLINE = "offline"


class CameraHealth(Record):
    """Current health of one camera (relay HTTP API); ``id`` is the camera id."""

    at: AwareDatetime
    camera_id: RecordId
    state: CameraState
    problems: list[VideoEventType] = Field(default_factory=list)
    last_frame_at: AwareDatetime | None = None
    frames_read: int = Field(default=0, ge=0)
    frames_analysed: int = Field(default=0, ge=0)
    reconnects: int = Field(default=0, ge=0)
    last_error: str | None = Field(default=None, max_length=1000)

    @property
    def event_time(self) -> datetime:
        return self.at
