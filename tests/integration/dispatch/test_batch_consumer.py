"""The batch intake consumer on the real embedded broker: commits only what was handled."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import pytest
from gt_testing import run_coroutine
from kafka import KafkaProducer

from dispatch.batch_consumer import BatchConsumer, BatchConsumerOptions
from goldentime.broker import EmbeddedBroker, ensure_topics
from goldentime.topics import TopicSpec

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as running:
        yield running


@pytest.fixture
def topic(broker: EmbeddedBroker) -> str:
    spec = TopicSpec(f"test.batch-{uuid.uuid4().hex[:6]}", "records for one test")
    ensure_topics(broker.bootstrap_servers, partitions=4, replication_factor=1, topics=[spec])
    return spec.name


def produce(bootstrap: str, topic: str, values: Sequence[bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for i, value in enumerate(values):
        producer.send(topic, key=str(i % 7).encode(), value=value)
    producer.flush(timeout=30)
    producer.close()


def options(bootstrap: str, group: str) -> BatchConsumerOptions:
    return BatchConsumerOptions(
        bootstrap=bootstrap,
        group_id=group,
        client_id=f"test-{group}",
        session_timeout_s=3.0,
        fetch_max_wait_ms=50,
        max_records=100,
    )


async def consume_until(
    consumer: BatchConsumer, seen: list[bytes], *, want: int, fail_after: int | None = None
) -> dict[str, Any]:
    """Run the consumer until ``want`` records were handled (or the handler failed)."""
    done = asyncio.Event()
    report: dict[str, Any] = {}

    started = 0
    finished: list[int] = []

    async def handle(records: Sequence[Any]) -> Callable[[], Awaitable[None]]:
        nonlocal started
        if fail_after is not None and len(seen) + len(records) > fail_after:
            raise RuntimeError("the worker died mid-batch")
        number = started
        started += 1
        # later batches finish phase one sooner: phase two must still come in batch order
        await asyncio.sleep(0.05 if number % 2 == 0 else 0.0)
        seen.extend(r.value for r in records)

        async def finish() -> None:
            finished.append(number)
            if len(seen) >= want:
                positions, highwaters = await consumer.offsets()
                report.update(positions=positions, highwaters=highwaters)
                report["assigned"] = len(consumer.assignment())
                report["finished"] = list(finished)
                done.set()

        return finish

    task = asyncio.create_task(consumer.run(handle))
    waiter = asyncio.create_task(done.wait())
    await asyncio.wait({task, waiter}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if not task.done():
        task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except RuntimeError as err:
        report["error"] = str(err)
    return report


def test_every_record_once_with_offsets(broker: EmbeddedBroker, topic: str) -> None:
    group = f"g-{uuid.uuid4().hex[:6]}"
    values = [f"r{i:04d}".encode() for i in range(500)]
    produce(broker.bootstrap_servers, topic, values)
    seen: list[bytes] = []
    consumer = BatchConsumer(topic, options=options(broker.bootstrap_servers, group))
    report = run_coroutine(lambda: consume_until(consumer, seen, want=500))
    assert sorted(seen) == sorted(values)
    assert report["assigned"] == 4
    assert report["finished"] == sorted(report["finished"]) and len(report["finished"]) > 2
    assert sum(p or 0 for p in report["positions"].values()) >= 500
    assert set(report["highwaters"]) == set(report["positions"])
    assert consumer.assignment() == set()  # stopped: holds nothing


def test_a_batch_that_was_not_handled_is_read_again(broker: EmbeddedBroker, topic: str) -> None:
    """At least once: the handler dies mid-way; a new consumer in the group gets the rest
    (and possibly the failed batch again), never fewer records."""
    group = f"g-{uuid.uuid4().hex[:6]}"
    values = [f"r{i:04d}".encode() for i in range(300)]
    produce(broker.bootstrap_servers, topic, values)
    first: list[bytes] = []
    report = run_coroutine(
        lambda: consume_until(
            BatchConsumer(topic, options=options(broker.bootstrap_servers, group)),
            first,
            want=10_000,
            fail_after=150,
        )
    )
    assert report["error"] == "the worker died mid-batch"
    assert 0 < len(first) < 300
    again: list[bytes] = []
    run_coroutine(
        lambda: consume_until(
            BatchConsumer(topic, options=options(broker.bootstrap_servers, group)),
            again,
            want=300 - len(first),
        )
    )
    assert set(first) | set(again) == set(values)  # nothing lost
    assert len(again) >= 300 - len(first)
