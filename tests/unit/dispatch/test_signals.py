from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.signals import video_signal
from goldentime.contracts.video import VideoEvent

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def event(**kw: object) -> VideoEvent:
    fields: dict[str, object] = {
        "id": "ep-1:1",
        "episode_id": "ep-1",
        "revision": 1,
        "detected_at": T0,
        "started_at": T0 - timedelta(seconds=2),
        "camera_id": "cam-1",
        "camera_name": "종로3가",
        "lat": 37.571,
        "lon": 126.992,
        "event_type": "fire",
        "phase": "new",
        "confidence": 0.8,
    }
    fields.update(kw)
    return VideoEvent.model_validate(fields)


def test_fire_episode_is_one_signal_for_all_its_phases() -> None:
    first = video_signal(event())
    update = video_signal(event(id="ep-1:2", revision=2, phase="update", confidence=0.9))
    assert first is not None and update is not None
    assert first.id == update.id == "video-ep-1"
    assert first.at == T0 - timedelta(seconds=2)
    assert first.type.value == "fire" and "advisory" in first.description


def test_health_end_and_low_confidence_events_are_not_signals() -> None:
    assert video_signal(event(event_type="offline")) is None
    assert video_signal(event(id="ep-1:3", revision=3, phase="end")) is None
    assert video_signal(event(confidence=0.2)) is None
    assert video_signal(event(event_type="smoke")) is not None
