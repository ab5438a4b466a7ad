"""Video events through the real embedded broker: keyed by camera, in the outbox first."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from gt_testing import read_topic
from sqlalchemy import select

from goldentime.broker import EmbeddedBroker, ensure_topics
from goldentime.contracts import decode
from goldentime.contracts.video import VideoEvent, VideoEventType
from goldentime.db import create_schema, engine_for
from goldentime.outbox import OUTBOX
from goldentime.settings import Settings, load_settings
from goldentime.topics import ALL_TOPICS, VIDEO_EVENTS
from video_relay.pipeline import CameraPipeline
from video_relay.publisher import EventPublisher
from video_relay.registry import Camera

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with EmbeddedBroker() as broker:
        ensure_topics(
            broker.bootstrap_servers, partitions=4, replication_factor=1, topics=ALL_TOPICS
        )
        settings = load_settings(
            broker={"bootstrap_servers": broker.bootstrap_servers, "flavor": "tansu"},
            data={"dir": tmp_path_factory.mktemp("video-publish")},
            logging={"level": "warning"},
        )
        create_schema(engine_for(settings))
        yield settings


def test_camera_events_reach_the_broker_keyed_by_camera_and_are_in_the_outbox(
    settings: Settings,
) -> None:
    cameras = [
        Camera(id=f"cam-{uuid.uuid4().hex[:6]}", name=f"it {i}", lat=37.57, lon=126.99)
        for i in range(3)
    ]
    publisher = EventPublisher.from_settings(settings)
    try:
        for camera in cameras:
            pipeline = CameraPipeline(camera, publisher=publisher)
            for step in range(12):  # a camera that never answers: one offline event each
                pipeline.no_frame(reason="connection refused", now=float(step))
    finally:
        publisher.close()  # every publish returned after its ack: nothing left to flush
    ids = {c.id.encode() for c in cameras}

    def ours(records: list[Any]) -> list[Any]:
        return [r for r in records if r.key in ids]

    records = ours(
        read_topic(
            settings.broker.bootstrap(), VIDEO_EVENTS.name, until=lambda r: len(ours(r)) >= 3
        )
    )
    events = [decode(VideoEvent, r.value) for r in records]
    assert sorted(r.key for r in records) == sorted(ids)
    assert all(e.event_type is VideoEventType.OFFLINE for e in events)
    assert {e.camera_id.encode() for e in events} == ids
    with engine_for(settings).connect() as conn:
        kept = set(
            conn.execute(
                select(OUTBOX.c.record_id).where(OUTBOX.c.topic == "video.events")
            ).scalars()
        )
    assert {e.id for e in events} <= kept  # accepted into the intake outbox before the send
