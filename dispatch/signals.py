"""Signals: what a call or a video event tells correlation (``dispatch.correlate.Signal``)."""

from __future__ import annotations

from dispatch.correlate import Signal
from goldentime.contracts import Call, IncidentType
from goldentime.contracts.video import VideoEvent, VideoEventType, VideoPhase

VIDEO_MIN_CONFIDENCE = 0.5
VIDEO_TYPES = {VideoEventType.FIRE: IncidentType.FIRE, VideoEventType.SMOKE: IncidentType.FIRE}


def call_signal(call: Call) -> Signal:
    return Signal(
        id=call.id,
        kind="call",
        at=call.event_time,
        lat=call.lat,
        lon=call.lon,
        type=call.type,
        description=call.description,
        source=call.source.value,
        payload=call.model_dump(mode="json"),
    )


def video_signal(event: VideoEvent) -> Signal | None:
    """A fire or smoke episode is one signal (its updates are the same signal again)."""
    incident_type = VIDEO_TYPES.get(event.event_type)
    if incident_type is None or event.phase is VideoPhase.END:
        return None
    if event.confidence < VIDEO_MIN_CONFIDENCE:
        return None
    return Signal(
        id=f"video-{event.episode_id}",
        kind="video",
        at=event.started_at,
        lat=event.lat,
        lon=event.lon,
        type=incident_type,
        description=(
            f"CCTV {event.camera_name or event.camera_id}: {event.event_type.value} "
            f"({event.confidence:.0%}, advisory: confirm on video)"
        ),
        source=f"camera:{event.camera_id}",
        payload=event.model_dump(mode="json"),
    )
