"""The seam between the console and the broker: publish a call, nothing else.

The Kafka implementation uses aiokafka with acks=all; a call is only acknowledged to the caller
once the broker has it, so an HTTP 202 means the call cannot be lost.
"""

from __future__ import annotations

from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from goldentime import topics
from goldentime.broker.clients import async_producer
from goldentime.contracts import Call, encode
from goldentime.errors import BrokerError
from goldentime.settings import Settings


class CallPublisher(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish_call(self, call: Call) -> None: ...


class KafkaCallPublisher:
    """Publishes calls to the ``calls`` topic, keyed by call id."""

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
                f"console cannot reach the broker at {self._settings.bootstrap()}: {err}"
            ) from err
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish_call(self, call: Call) -> None:
        if self._producer is None:
            raise BrokerError("the call publisher is not started")
        try:
            await self._producer.send_and_wait(
                topics.CALLS.name, key=call.id.encode(), value=encode(call)
            )
        except (KafkaError, OSError) as err:
            raise BrokerError(f"the broker did not take call {call.id}: {err}") from err
