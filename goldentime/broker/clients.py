"""Kafka clients built from settings, one code path for Tansu and a real cluster.

Producers use acks=all; idempotence is enabled only where the broker supports it (Tansu fails
InitProducerId, NOTES.md), so the system is at-least-once and consumers are idempotent.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer
from kafka import KafkaProducer
from kafka.errors import KafkaError

from goldentime.broker.publisher import BatchPublisher
from goldentime.errors import BrokerError
from goldentime.settings import Settings


def producer_options(settings: Settings) -> dict[str, Any]:
    return {
        "bootstrap_servers": settings.broker.bootstrap(),
        "acks": "all",
        "enable_idempotence": not settings.broker.tansu_compat,
        "linger_ms": 2,
    }


def sync_producer(settings: Settings, *, client_id: str) -> KafkaProducer:
    """A kafka-python producer (for CLIs, the video relay and sensor ingest)."""
    try:
        return KafkaProducer(
            client_id=client_id,
            retries=5,
            request_timeout_ms=15_000,
            **producer_options(settings),
        )
    except KafkaError as err:
        raise BrokerError(
            f"cannot connect producer to {settings.broker.bootstrap()}: {err}"
        ) from err


def async_producer(settings: Settings, *, client_id: str) -> AIOKafkaProducer:
    """An aiokafka producer (for the console); call ``await start()`` on it."""
    return AIOKafkaProducer(
        client_id=client_id, request_timeout_ms=15_000, **producer_options(settings)
    )


def batch_publisher(settings: Settings, *, client_id: str) -> BatchPublisher:
    """A publisher of whole record batches (for the workers); starts on first use."""
    return BatchPublisher(
        lambda: AIOKafkaProducer(
            client_id=client_id,
            request_timeout_ms=15_000,
            max_batch_size=512 * 1024,
            **producer_options(settings),
        )
    )
