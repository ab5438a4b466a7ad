"""Where a camera's events go: ``video.events`` keyed by camera id, through the one Publisher.

The broker is the injected :class:`~goldentime.broker.publisher.BlockingPublisher` (camera
pipelines run in threads): over the Kafka publisher in production
(:meth:`EventPublisher.from_settings`), over the in-memory fake in tests, evaluations and
``--no-publish`` runs (:meth:`EventPublisher.in_memory`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from goldentime.broker.clients import kafka_publisher
from goldentime.broker.publisher import BlockingPublisher, InMemoryPublisher
from goldentime.contracts.core import encode
from goldentime.contracts.video import VideoEvent
from goldentime.errors import BrokerError
from goldentime.outbox import OutboxEntry, outbox_engine, store_entries
from goldentime.settings import Settings
from goldentime.topics import VIDEO_EVENTS

log = logging.getLogger(__name__)
PUBLISH_WAIT_S = 5.0  # a camera thread waits at most this long for the broker's ack


class EventPublisher:
    """Sends each event to ``video.events`` keyed by camera id and waits for the broker's ack.

    A broker failure is logged, not raised: a camera never stops for the broker. With
    ``outbox`` (an engine on the incident database) each event is first written to the intake
    outbox (``goldentime.outbox``): the console's relay sends it again until dispatch has
    processed it, so a broker restart loses no detection. Without it (or while the database
    is away, logged) an event is as safe as the broker's acknowledgement. With ``log_events``
    every event is also logged (``--no-publish``).
    """

    def __init__(
        self,
        publisher: BlockingPublisher,
        *,
        outbox: Engine | None = None,
        log_events: bool = False,
        timeout_s: float = PUBLISH_WAIT_S,
    ) -> None:
        self._publisher = publisher
        self._outbox = outbox
        self._log = log_events
        self._timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> EventPublisher:
        return cls(
            BlockingPublisher(
                kafka_publisher(settings, client_id="video-relay"), name="video-relay-publisher"
            ),
            outbox=outbox_engine(
                settings.effective_database_url, lock_wait_s=settings.intake.lock_wait_s
            ),
        )

    @classmethod
    def in_memory(cls, *, log_events: bool = False) -> tuple[EventPublisher, InMemoryPublisher]:
        """An EventPublisher over the in-memory fake, and the fake (what was published)."""
        kept = InMemoryPublisher()
        return cls(BlockingPublisher(kept, name="video-events-memory"), log_events=log_events), kept

    def publish(self, event: VideoEvent) -> None:
        key, value = event.camera_id.encode(), encode(event)
        if self._log:
            log.warning(
                "video event %s %s %s camera=%s confidence=%.2f",
                event.event_type.value,
                event.phase.value,
                event.episode_id,
                event.camera_id,
                event.confidence,
            )
        if self._outbox is not None:
            entry = OutboxEntry(VIDEO_EVENTS.name, event.id, key, value, datetime.now(UTC))
            try:
                store_entries(self._outbox, [entry])
            except SQLAlchemyError as err:
                log.error("%s not in the intake outbox (database away): %s", event.id, err)
        try:
            self._publisher.publish(VIDEO_EVENTS.name, [(key, value)], timeout_s=self._timeout_s)
        except BrokerError as err:
            log.error("cannot publish %s to %s: %s", event.id, VIDEO_EVENTS.name, err)

    def close(self) -> None:
        """Flush and stop the publisher; release the outbox engine."""
        try:
            self._publisher.close()
        finally:
            if self._outbox is not None:
                self._outbox.dispose()
