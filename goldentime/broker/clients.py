"""Kafka clients built from settings, one code path for Tansu and a real cluster.

:func:`kafka_publisher` is the only place a producer is built; every process is handed what it
returns (or, in tests, an :class:`~goldentime.broker.publisher.InMemoryPublisher`).

Producers use acks=all; idempotence is enabled only where the broker supports it (Tansu fails
InitProducerId, NOTES.md), so the system is at-least-once and consumers are idempotent.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from goldentime.broker.publisher import CONCURRENT_SMALL_MAX, KafkaPublisher
from goldentime.settings import Settings


def producer_options(settings: Settings) -> dict[str, Any]:
    return {
        "bootstrap_servers": settings.broker.bootstrap(),
        "acks": "all",
        "enable_idempotence": not settings.broker.tansu_compat,
        "linger_ms": 2,
    }


def kafka_publisher(
    settings: Settings, *, client_id: str, concurrent_small: bool = False
) -> KafkaPublisher:
    """The one producer factory: a :class:`~goldentime.broker.publisher.Publisher` on Kafka
    (acks=all, whole record batches), started on first use. Threads wrap it in a
    :class:`~goldentime.broker.publisher.BlockingPublisher`. ``concurrent_small``: for a
    process that publishes many small sets of records at once (the console's intake), which
    then share produce requests (:data:`~goldentime.broker.publisher.CONCURRENT_SMALL_MAX`)."""
    return KafkaPublisher(
        lambda: AIOKafkaProducer(
            client_id=client_id,
            request_timeout_ms=15_000,
            max_batch_size=512 * 1024,
            **producer_options(settings),
        ),
        accumulate_up_to=CONCURRENT_SMALL_MAX if concurrent_small else 0,
    )
