"""Where events go: the injectable publisher seam (Kafka in production, memory in tests)."""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from kafka.errors import KafkaError

from goldentime.broker.clients import sync_producer
from goldentime.contracts.core import encode
from goldentime.contracts.video import VideoEvent
from goldentime.errors import BrokerError
from goldentime.settings import Settings
from goldentime.topics import VIDEO_EVENTS

log = logging.getLogger(__name__)


class Publisher(Protocol):
    def publish(self, event: VideoEvent) -> None: ...

    def close(self) -> None: ...


class MemoryPublisher:
    """Keeps events in a list (tests, `--no-publish`, evaluation)."""

    def __init__(self, *, log_events: bool = False) -> None:
        self.events: list[VideoEvent] = []
        self._lock = threading.Lock()
        self._log = log_events

    def publish(self, event: VideoEvent) -> None:
        with self._lock:
            self.events.append(event)
        if self._log:
            log.warning(
                "video event %s %s %s camera=%s confidence=%.2f",
                event.event_type.value,
                event.phase.value,
                event.episode_id,
                event.camera_id,
                event.confidence,
            )

    def close(self) -> None:
        return None


class KafkaPublisher:
    """Sends each event to ``video.events`` keyed by camera id; failures are logged, not fatal."""

    def __init__(self, producer: Any, *, topic: str = VIDEO_EVENTS.name) -> None:
        self._producer = producer
        self._topic = topic

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaPublisher:
        return cls(sync_producer(settings, client_id="video-relay"))

    def publish(self, event: VideoEvent) -> None:
        try:
            future = self._producer.send(
                self._topic, key=event.camera_id.encode(), value=encode(event)
            )
        except KafkaError as err:
            log.error("cannot publish %s to %s: %s", event.id, self._topic, err)
            return
        future.add_errback(lambda err: log.error("publish of %s failed: %s", event.id, err))

    def close(self) -> None:
        try:
            self._producer.flush(timeout=10)
            self._producer.close(timeout=10)
        except KafkaError as err:
            raise BrokerError(f"video relay producer did not flush: {err}") from err
