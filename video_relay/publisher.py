"""Where events go: the injectable publisher seam (Kafka in production, memory in tests)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any, Protocol

from kafka.errors import KafkaError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from goldentime.broker.clients import sync_producer
from goldentime.contracts.core import encode
from goldentime.contracts.video import VideoEvent
from goldentime.errors import BrokerError
from goldentime.outbox import OutboxEntry, outbox_engine, store_entries
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
    """Sends each event to ``video.events`` keyed by camera id; failures are logged, not fatal.

    With ``outbox`` (an engine on the incident database) each event is first written to the
    intake outbox (``goldentime.outbox``): the console's relay sends it again until dispatch
    has processed it, so a broker restart loses no detection. Without it (or while the
    database is away, logged) an event is as safe as the broker's acknowledgement.
    """

    def __init__(
        self, producer: Any, *, topic: str = VIDEO_EVENTS.name, outbox: Engine | None = None
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._outbox = outbox

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaPublisher:
        return cls(
            sync_producer(settings, client_id="video-relay"),
            outbox=outbox_engine(
                settings.effective_database_url, lock_wait_s=settings.intake.lock_wait_s
            ),
        )

    def publish(self, event: VideoEvent) -> None:
        key, value = event.camera_id.encode(), encode(event)
        if self._outbox is not None:
            entry = OutboxEntry(self._topic, event.id, key, value, datetime.now(UTC))
            try:
                store_entries(self._outbox, [entry])
            except SQLAlchemyError as err:
                log.error("%s not in the intake outbox (database away): %s", event.id, err)
        try:
            future = self._producer.send(self._topic, key=key, value=value)
        except KafkaError as err:
            log.error("cannot publish %s to %s: %s", event.id, self._topic, err)
            return
        future.add_errback(lambda err: log.error("publish of %s failed: %s", event.id, err))

    def close(self) -> None:
        try:
            self._producer.flush(timeout=10)
            self._producer.close(timeout=10)
            if self._outbox is not None:
                self._outbox.dispose()
        except KafkaError as err:
            raise BrokerError(f"video relay producer did not flush: {err}") from err
