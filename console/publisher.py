"""The seam between the console and the broker: publish a record to a topic, nothing else.

The Kafka implementation uses aiokafka with acks=all; a record is only acknowledged to the
caller once the broker has it, so an HTTP 202 means the call or command cannot be lost.
"""

from __future__ import annotations

from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from goldentime.broker.clients import async_producer
from goldentime.contracts import Record, encode
from goldentime.errors import BrokerError
from goldentime.settings import Settings
from goldentime.topics import TopicSpec


class RecordPublisher(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, topic: TopicSpec, record: Record, *, key: str) -> None: ...


class KafkaPublisher:
    """Publishes records with acks=all and waits for the broker's acknowledgement."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        producer = async_producer(self._settings, client_id="goldentime-console")
        try:
            await producer.start()
        except (KafkaError, OSError) as err:
            await producer.stop()
            raise BrokerError(
                f"console cannot reach the broker at {self._settings.broker.bootstrap()}: {err}"
            ) from err
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, topic: TopicSpec, record: Record, *, key: str) -> None:
        if self._producer is None:
            raise BrokerError("the publisher is not started")
        try:
            await self._producer.send_and_wait(topic.name, key=key.encode(), value=encode(record))
        except (KafkaError, OSError) as err:
            raise BrokerError(f"the broker did not take {record.id}: {err}") from err
