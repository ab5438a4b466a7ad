"""Settings and shims that make faust-streaming work well on the embedded Tansu broker.

Applied only when ``settings.broker.tansu_compat`` is true (NOTES.md, "Embedded broker"):

- faust hard-codes ``fetch_max_wait_ms=1500``; Tansu notices new records after about half the
  fetch wait, so produce-to-agent latency was ~330 ms. We lower it to the configured value.
- Tansu answers ListOffsets(LATEST) with the start of the last batch + 1, not the true end, so
  faust's table recovery can finish early. :func:`true_end_offsets` finds the real end with one
  extra fetch and replaces the consumer's ``end_offsets`` for faust's highwater queries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

log = logging.getLogger(__name__)

_ORIGINAL_CREATE = AIOKafkaConsumerThread._create_worker_consumer
_applied: dict[str, Any] = {}


async def true_end_offsets(
    consumer: AIOKafkaConsumer,
    partitions: Iterable[TopicPartition],
    reported: Mapping[TopicPartition, int],
) -> dict[TopicPartition, int]:
    """Correct Tansu's end offsets by reading from the reported end until nothing is left.

    Uses a throw-away consumer on the same cluster, so the worker's positions are untouched.
    """
    parts = list(partitions)
    result = dict(reported)
    probe = AIOKafkaConsumer(
        bootstrap_servers=consumer._client._bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        fetch_max_wait_ms=50,
    )
    await probe.start()
    try:
        probe.assign(parts)
        for tp in parts:
            start = max(reported.get(tp, 0) - 1, 0)
            probe.seek(tp, start)
        pending = set(parts)
        while pending:
            batch = await probe.getmany(*pending, timeout_ms=200)
            progressed = False
            for tp, records in batch.items():
                if records:
                    result[tp] = max(result.get(tp, 0), records[-1].offset + 1)
                    progressed = True
            if not progressed:
                break
            pending = {tp for tp in pending if batch.get(tp)}
    finally:
        await probe.stop()
    return result


def apply(*, fetch_max_wait_ms: int) -> None:
    """Install the Tansu shims (idempotent)."""
    if _applied.get("fetch_max_wait_ms") == fetch_max_wait_ms:
        return

    def _create_worker_consumer(self: AIOKafkaConsumerThread, transport: Any) -> AIOKafkaConsumer:
        consumer = _ORIGINAL_CREATE(self, transport)
        consumer._fetch_max_wait_ms = fetch_max_wait_ms
        original_end_offsets = consumer.end_offsets

        async def end_offsets(parts: list[TopicPartition]) -> dict[TopicPartition, int]:
            reported = await original_end_offsets(parts)
            return await true_end_offsets(consumer, parts, reported)

        consumer.end_offsets = end_offsets
        return consumer

    AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]
    _applied["fetch_max_wait_ms"] = fetch_max_wait_ms
    log.info("Tansu compatibility shims applied (fetch_max_wait_ms=%d)", fetch_max_wait_ms)
