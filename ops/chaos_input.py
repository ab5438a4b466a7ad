"""Mixed input for chaos runs: calls, video, sensor readings and malformed records.

:func:`generate_mixed` builds a deterministic input of ``n`` records over three topics:

* ``calls``: the seeded replay of ``dispatch.replay`` (planted events, 1-4 callers each);
* ``video.events``: fire/smoke episodes (``new`` then ``update`` records) at some fire events,
  joining the callers' incident or opening it, a few fire events reported by video alone, and
  records dispatch must ignore (motion, low confidence, ``end``);
* ``sensor.readings``: quiet readings of real registry sensors;

plus malformed records on each of the three topics (not JSON, contract violations, unknown
sensors, wrong units), keyed ``{prefix}:bad:{n}`` so their dead letters can be counted.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from goldentime import topics
from goldentime.contracts import Call, encode
from goldentime.contracts.sensors import SensorReading
from goldentime.contracts.video import VideoEvent, VideoEventType, VideoPhase
from goldentime.errors import GoldenTimeError
from goldentime.geo import destination
from ops.consistency import Expected, bad_key

if TYPE_CHECKING:
    from sensors.model import SensorSpec

MALFORMED_SHARE = 0.04
VIDEO_SHARE = 0.12
SENSOR_SHARE = 0.20
VIDEO_ONLY_SHARE = 0.25  # of the fire events given a video episode, those without callers
VIDEO_EVENT_SHARE = 0.5  # of the fire events, those given a video episode
SENSORS_USED = 40
SENSOR_INTERVAL_S = 60.0
#: Valid video records that must not become signals: motion, camera health, low confidence.
IGNORED_VIDEO = (
    (VideoEventType.MOTION, 0.9),
    (VideoEventType.OFFLINE, 1.0),
    (VideoEventType.FIRE, 0.3),
)
FIRE_TYPES = frozenset({"fire", "building_fire", "vehicle_fire"})


class ChaosError(GoldenTimeError):
    """A chaos run could not be set up or did not finish."""


@dataclass(frozen=True, slots=True)
class Outbound:
    """One record to send: topic, key, value and event time (the sending order); ``record_id``
    for a valid call or video event (accepted durably: through the intake outbox)."""

    topic: str
    key: bytes
    value: bytes
    at: datetime
    record_id: str | None = None


@dataclass
class MixedInput:
    records: list[Outbound]
    expected: Expected
    counts: dict[str, int]


def _video(
    *, episode: str, revision: int, phase: VideoPhase, kind: VideoEventType, started: datetime,
    lat: float, lon: float, confidence: float, camera: str,
) -> VideoEvent:  # fmt: skip
    return VideoEvent(
        id=f"{episode}:{revision}",
        episode_id=episode,
        revision=revision,
        detected_at=started + timedelta(seconds=5 * (revision - 1)),
        started_at=started,
        camera_id=camera,
        camera_name=f"chaos {camera}",
        lat=round(lat, 7),
        lon=round(lon, 7),
        event_type=kind,
        phase=phase,
        confidence=confidence,
    )


def _offset(lat: float, lon: float, rng: random.Random, metres: float) -> tuple[float, float]:
    bearing = rng.uniform(0, 2 * math.pi)
    dist = rng.uniform(0, metres)
    return destination(lat, lon, bearing_rad=bearing, distance_m=dist)


def _video_records(
    rng: random.Random, prefix: str, calls: list[Call], event_of: dict[str, str], budget: int
) -> tuple[list[VideoEvent], dict[str, str], set[str]]:
    """Video episodes at fire events; returns records, signal -> event, video-only events."""
    firsts: dict[str, Call] = {}
    for call in calls:
        event = event_of[call.id]
        if call.type.value in FIRE_TYPES and event not in firsts:
            firsts[event] = call
    fire_events = sorted(firsts)
    rng.shuffle(fire_events)
    records: list[VideoEvent] = []
    signals: dict[str, str] = {}
    video_only: set[str] = set()
    for n, event in enumerate(fire_events[: int(len(fire_events) * VIDEO_EVENT_SHARE)]):
        if len(records) >= budget:
            break
        first = firsts[event]
        episode = f"{prefix}-ep{n:05d}"
        lat, lon = _offset(first.lat, first.lon, rng, 40.0)
        started = first.received_at + timedelta(seconds=rng.uniform(-120, 240))
        kind = rng.choice((VideoEventType.FIRE, VideoEventType.SMOKE))
        camera = f"{prefix}-cam{n % 50:02d}"
        updates = rng.randint(0, 2)
        for revision in range(1, updates + 2):
            phase = VideoPhase.NEW if revision == 1 else VideoPhase.UPDATE
            records.append(
                _video(episode=episode, revision=revision, phase=phase, kind=kind,
                       started=started, lat=lat, lon=lon, camera=camera,
                       confidence=round(rng.uniform(0.5, 0.99), 3))
            )  # fmt: skip
        signals[f"video-{episode}"] = event
        if rng.random() < VIDEO_ONLY_SHARE:
            video_only.add(event)
    # records dispatch must ignore: motion, a low-confidence fire, the end of an episode
    n = len(fire_events)
    while len(records) < budget:
        first = firsts[fire_events[n % len(fire_events)]] if fire_events else calls[0]
        episode = f"{prefix}-ig{n:05d}"
        lat, lon = _offset(first.lat, first.lon, rng, 40.0)
        kind, confidence = IGNORED_VIDEO[n % len(IGNORED_VIDEO)]
        records.append(
            _video(episode=episode, revision=1, phase=VideoPhase.NEW, kind=kind,
                   started=first.received_at, lat=lat, lon=lon, camera=f"{prefix}-camig",
                   confidence=confidence)
        )  # fmt: skip
        n += 1
    return records, signals, video_only


def _quiet_value(spec: SensorSpec, rng: random.Random, step: int) -> float:
    """Well below the sensor's lowest alarm level, gently varying (no flatline, no spike)."""
    low = float(spec.faults.physical_min)
    high = min([float(t.clear_at) for t in spec.levels] + [float(spec.faults.physical_max)])
    base = low + 0.3 * (high - low)
    return round(base + 0.01 * (high - low) * math.sin(step / 3.0) + rng.uniform(-1e-3, 1e-3), 4)


def _sensor_readings(
    rng: random.Random, prefix: str, count: int, start: datetime, seoul_data_dir: Path
) -> list[SensorReading]:
    from sensors.registry import load_registry

    specs = sorted(load_registry(seoul_data_dir).sensors(), key=lambda s: s.sensor_id)
    chosen = rng.sample(specs, min(SENSORS_USED, len(specs)))
    readings: list[SensorReading] = []
    for n in range(count):
        spec = chosen[n % len(chosen)]
        step = n // len(chosen)
        at = start + timedelta(seconds=SENSOR_INTERVAL_S * step)
        readings.append(
            SensorReading(
                id=f"{prefix}-r{n:06d}",
                structure_id=spec.structure_id,
                sensor_id=spec.sensor_id,
                kind=spec.kind,
                value=_quiet_value(spec, rng, step),
                unit=spec.unit,
                measured_at=at,
            )
        )
    return readings


def malformed_value(topic: str, rng: random.Random, at: datetime, n: int) -> bytes:
    """A value on ``topic`` that its consumer must refuse (dead letter with a reason)."""
    stamp = at.isoformat()
    if n % 5 == 0:
        return b'{"id": "broken' + str(n).encode() + b'", '  # not JSON
    if topic == topics.CALLS.name:
        bad: list[dict[str, Any]] = [
            {"id": f"bad-{n}", "received_at": stamp, "lat": 137.5, "lon": 127.0, "type": "fire"},
            {"id": f"bad-{n}", "received_at": stamp, "lat": 37.5, "lon": 127.0, "type": "volcano"},
            {"id": f"bad-{n}", "received_at": stamp[:19], "lat": 37.5, "lon": 127.0,
             "type": "ems"},
            {"id": f"bad-{n}", "received_at": stamp, "lon": 127.0, "type": "ems", "x": 1},
        ]  # fmt: skip
    elif topic == topics.VIDEO_EVENTS.name:
        base = {"id": f"ep{n}:1", "episode_id": f"ep{n}", "revision": 1, "detected_at": stamp,
                "started_at": stamp, "camera_id": "c", "lat": 37.5, "lon": 127.0,
                "event_type": "fire", "phase": "new", "confidence": 0.9}  # fmt: skip
        bad = [base | {"confidence": 1.7}, base | {"revision": 2}, base | {"phase": "begin"},
               base | {"id": "other:1"}]  # fmt: skip
    else:
        base = {"id": f"rd{n}", "structure_id": "nowhere", "sensor_id": f"ghost-{n}",
                "kind": "wind", "value": 3.0, "unit": "m/s", "measured_at": stamp}  # fmt: skip
        bad = [base, base | {"value": "3.0"}, base | {"kind": "lava"}, base | {"measured_at": 5}]
    return orjson.dumps(rng.choice(bad))


def generate_mixed(
    n: int, *, seed: int, prefix: str, start: datetime, seoul_data_dir: Path
) -> MixedInput:
    """``n`` records (calls, video, sensor readings, malformed ones), in event-time order."""
    from dispatch.catalog import load_catalog
    from dispatch.cells import cell_of
    from dispatch.replay import generate_replay

    if n < 100:
        raise ChaosError(f"a chaos run needs at least 100 events, got {n}")
    rng = random.Random(seed)
    n_bad = max(6, round(n * MALFORMED_SHARE))
    n_video = round(n * VIDEO_SHARE)
    n_sensor_min = round(n * SENSOR_SHARE)
    replay = generate_replay(
        n - n_bad - n_video - n_sensor_min,
        seed=seed,
        prefix=prefix,
        start=start,
        catalog=load_catalog(),
    )
    video, video_signals, video_only = _video_records(
        rng, prefix, replay.calls, replay.event_of, n_video
    )
    calls = [c for c in replay.calls if replay.event_of[c.id] not in video_only]
    event_of = {c.id: replay.event_of[c.id] for c in calls} | video_signals
    records = [
        Outbound(topics.CALLS.name, cell_of(c.lat, c.lon).encode(), encode(c), c.received_at, c.id)
        for c in calls
    ]
    records += [
        Outbound(topics.VIDEO_EVENTS.name, v.camera_id.encode(), encode(v), v.detected_at, v.id)
        for v in video
    ]
    n_sensor = n - n_bad - len(records)
    readings = _sensor_readings(rng, prefix, n_sensor, start, seoul_data_dir)
    records += [
        Outbound(topics.SENSOR_READINGS.name, r.structure_id.encode(), encode(r), r.measured_at)
        for r in readings
    ]
    records.sort(key=lambda r: r.at)
    bad_topics = (topics.CALLS.name, topics.VIDEO_EVENTS.name, topics.SENSOR_READINGS.name)
    for index in range(n_bad):
        topic = bad_topics[index % len(bad_topics)]
        place = rng.randrange(len(records) + 1)
        at = records[min(place, len(records) - 1)].at
        value = malformed_value(topic, rng, at, index)
        records.insert(place, Outbound(topic, bad_key(prefix, index), value, at))
    counts = {
        "calls": len(calls),
        "video_records": len(video),
        "video_signals": len(video_signals),
        "video_only_events": len(video_only),
        "sensor_readings": len(readings),
        "malformed": n_bad,
    }
    return MixedInput(records, Expected(prefix, event_of, n_bad), counts)
