from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from goldentime.broker.publisher import BlockingPublisher, InMemoryPublisher
from goldentime.clock import ManualClock
from goldentime.contracts.core import decode
from goldentime.contracts.video import VideoEvent, VideoEventType, VideoPhase
from goldentime.topics import VIDEO_EVENTS
from video_relay.errors import GarbageFrameError, SourceError
from video_relay.events import EpisodePolicy, EpisodeTracker, Observation
from video_relay.live import FrameHub
from video_relay.media import MediaStore
from video_relay.pipeline import CameraPipeline
from video_relay.publisher import EventPublisher
from video_relay.registry import Camera
from video_relay.sources import Backoff, Frame
from video_relay.worker import CameraWorker, Supervisor, WorkerOptions


def test_episode_new_update_end_share_an_episode(camera: Camera, clock: ManualClock) -> None:
    tracker = EpisodeTracker(
        camera,
        policies={VideoEventType.FIRE: EpisodePolicy(min_hits=2, update_delta=0.2, end_grace_s=3)},
    )
    seen = Observation(confidence=0.6)
    out: list[VideoEvent] = []
    for step, obs in enumerate([seen, seen, Observation(0.9), None, None, None, None]):
        out += tracker.observe(VideoEventType.FIRE, obs, now=float(step), at=clock.now())
        clock.advance(1)
    assert [e.phase for e in out] == [VideoPhase.NEW, VideoPhase.UPDATE, VideoPhase.END]
    assert len({e.episode_id for e in out}) == 1
    assert [e.revision for e in out] == [1, 2, 3]
    assert out[-1].confidence == 0.9


def test_single_hit_opens_nothing(camera: Camera, clock: ManualClock) -> None:
    tracker = EpisodeTracker(camera, policies={})
    out = tracker.observe(VideoEventType.FIRE, Observation(0.9), now=0.0, at=clock.now())
    out += tracker.observe(VideoEventType.FIRE, None, now=1.0, at=clock.now())
    assert out == []


@pytest.fixture
def published() -> Iterator[tuple[EventPublisher, InMemoryPublisher]]:
    """An EventPublisher over the in-memory fake, and the fake (what reached the broker)."""
    publisher, kept = EventPublisher.in_memory()
    yield publisher, kept
    publisher.close()


def test_fire_pipeline_publishes_with_snapshot_and_clip(
    camera: Camera,
    clock: ManualClock,
    tmp_path: Path,
    fire_frame: Callable[..., np.ndarray],
    published: tuple[EventPublisher, InMemoryPublisher],
) -> None:
    publisher, kept = published
    media = MediaStore(tmp_path, base_url="http://relay")
    pipeline = CameraPipeline(camera, publisher=publisher, clock=clock, media=media)
    for i in range(20):
        pipeline.analyse(fire_frame(i / 5), i / 5, now=i / 5)
        clock.advance(0.2)
    events = kept.decoded(VIDEO_EVENTS, VideoEvent)
    new = [e for e in events if e.phase is VideoPhase.NEW]
    assert [e.event_type for e in new] == [VideoEventType.FIRE]
    event = new[0]
    assert event.camera_id == camera.id and event.lat == camera.lat and event.boxes
    assert event.snapshot_url == f"http://relay/media/{event.snapshot_ref}"
    assert (tmp_path / str(event.snapshot_ref)).read_bytes()[:2] == b"\xff\xd8"
    assert (tmp_path / str(event.clip_ref)).stat().st_size > 0


def test_events_are_keyed_contract_json(
    camera: Camera, clock: ManualClock, published: tuple[EventPublisher, InMemoryPublisher]
) -> None:
    publisher, kept = published
    pipeline = CameraPipeline(camera, publisher=publisher, clock=clock)
    for step in range(12):
        pipeline.no_frame(reason="connection refused", now=float(step))
    key, value = kept.messages(VIDEO_EVENTS)[0]
    assert key == camera.id.encode()
    event = decode(VideoEvent, value)
    assert event.event_type is VideoEventType.OFFLINE and event.detail == "connection refused"


def test_a_broker_failure_is_logged_and_the_camera_goes_on(
    camera: Camera,
    clock: ManualClock,
    published: tuple[EventPublisher, InMemoryPublisher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    publisher, kept = published
    kept.unavailable = True
    emitted: list[VideoEvent] = []
    pipeline = CameraPipeline(camera, publisher=publisher, clock=clock, on_event=emitted.append)
    for step in range(12):
        pipeline.no_frame(reason="connection refused", now=float(step))
    assert kept.records == [] and [e.event_type for e in emitted] == [VideoEventType.OFFLINE]
    assert f"cannot publish {emitted[0].id} to video.events" in caplog.text


def test_events_are_accepted_into_the_intake_outbox_first(
    camera: Camera, clock: ManualClock, tmp_path: Path
) -> None:
    """A detection is in the incident database before it is sent: a broker restart (the
    embedded one keeps nothing) cannot lose it; dispatch settles the row when it handles it."""
    from sqlalchemy import select

    from goldentime.db import create_schema, make_engine
    from goldentime.outbox import OUTBOX

    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    kept = InMemoryPublisher()
    publisher = EventPublisher(BlockingPublisher(kept), outbox=engine)
    try:
        pipeline = CameraPipeline(camera, publisher=publisher, clock=clock)
        for step in range(12):
            pipeline.no_frame(reason="connection refused", now=float(step))
    finally:
        publisher.close()
    (record,) = kept.records
    with engine.connect() as conn:
        rows = conn.execute(select(OUTBOX.c.topic, OUTBOX.c.record_id, OUTBOX.c.value)).all()
    assert [(r.topic, r.record_id, r.value) for r in rows] == [
        (record.topic, decode(VideoEvent, record.value).id, record.value)
    ]


class ScriptedSource:
    """Frames, garbage and failures on demand, for the worker."""

    def __init__(self, script: list[str], opened: list[int]) -> None:
        self.script, self.opened = script, opened
        self.t = 0.0

    @property
    def description(self) -> str:
        return "scripted"

    def open(self) -> None:
        self.opened.append(1)
        if self.script and self.script[0] == "refuse":
            self.script.pop(0)
            raise SourceError("scripted: connection refused")

    def grab(self) -> float:
        if not self.script:
            raise SourceError("scripted: end")
        self.t += 0.2
        return self.t

    def retrieve(self) -> Frame:
        step = self.script.pop(0)
        if step == "garbage":
            raise GarbageFrameError("scripted: garbage frame")
        rng = np.random.default_rng(int(self.t * 10))
        return Frame(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8), self.t)

    def close(self) -> None: ...


def test_worker_survives_refusal_and_garbage_and_keeps_last_frame(
    camera: Camera, clock: ManualClock, published: tuple[EventPublisher, InMemoryPublisher]
) -> None:
    script = ["refuse", "frame", "garbage", "garbage", "garbage", "frame"]
    opened: list[int] = []
    hub = FrameHub()
    publisher, _kept = published
    pipeline = CameraPipeline(camera, publisher=publisher, clock=clock)
    options = WorkerOptions(max_garbage_frames=2, backoff_base_s=0.01, backoff_cap_s=0.02)
    worker = CameraWorker(
        pipeline, lambda: ScriptedSource(script, opened), hub=hub, options=options
    )
    done = threading.Event()
    supervisor = Supervisor([worker], check_every_s=0.05)
    supervisor.start()
    done.wait(0.5)
    supervisor.stop(timeout=2)
    assert len(opened) >= 3  # refused, garbage burst, then the rest
    frame = hub.get(camera.id)
    assert frame is not None and frame.seq >= 2 and frame.jpeg[:2] == b"\xff\xd8"
    assert worker.health().frames_analysed >= 2
    assert worker.last_error is not None and "scripted" in worker.last_error


def test_backoff_grows_and_is_capped() -> None:
    import random

    backoff = Backoff(base_s=1, cap_s=8, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(6)]
    assert delays[0] < delays[2] < delays[3]
    assert max(delays) <= 8 * 1.2
