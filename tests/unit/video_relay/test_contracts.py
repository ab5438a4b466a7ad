from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from goldentime.contracts.core import decode, encode
from goldentime.contracts.video import Box, VideoEvent, VideoEventType, VideoPhase
from goldentime.errors import ContractError

AT = datetime(2026, 3, 1, tzinfo=UTC)


def _event(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": "cam1:fire:1:1",
        "episode_id": "cam1:fire:1",
        "revision": 1,
        "detected_at": AT.isoformat(),
        "started_at": AT.isoformat(),
        "camera_id": "cam1",
        "lat": 37.57,
        "lon": 126.98,
        "event_type": "fire",
        "phase": "new",
        "confidence": 0.8,
        "boxes": [{"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.3}],
    }
    data.update(changes)
    return data


def test_round_trip_keeps_every_field() -> None:
    event = VideoEvent.model_validate(_event())
    again = decode(VideoEvent, encode(event))
    assert again == event
    assert again.event_type is VideoEventType.FIRE and again.phase is VideoPhase.NEW
    assert again.advisory and not again.is_health


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "other:1"}, "id must be"),
        ({"revision": 2, "id": "cam1:fire:1:2"}, "revision 1"),
        ({"confidence": 1.5}, "confidence"),
        ({"boxes": [{"x": 0.9, "y": 0.1, "w": 0.2, "h": 0.1}]}, "beyond the frame"),
        ({"detected_at": "2026-03-01T00:00:00"}, "timezone"),
        ({"lat": 10.0}, "lat"),
    ],
)
def test_invalid_events_are_rejected_with_reason(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ContractError, match=field):
        decode(VideoEvent, orjson.dumps(_event(**changes)))


def test_box_must_have_area() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        Box(x=0.1, y=0.1, w=0.0, h=0.1)
