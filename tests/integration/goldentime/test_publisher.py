"""The Kafka publisher on the real embedded broker: every record, where other clients put it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from gt_testing import run_coroutine
from kafka import KafkaConsumer, TopicPartition
from kafka.partitioner.default import murmur2

from goldentime.broker import EmbeddedBroker, ensure_topics
from goldentime.broker.clients import kafka_publisher
from goldentime.broker.publisher import BlockingPublisher, KafkaPublisher
from goldentime.errors import BrokerError
from goldentime.procutil import free_port
from goldentime.settings import load_settings
from goldentime.topics import TopicSpec

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as running:
        yield running


def read_all(bootstrap: str, topic: str, expected: int) -> dict[int, list[tuple[bytes, bytes]]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, fetch_max_wait_ms=50)
    parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    out: dict[int, list[tuple[bytes, bytes]]] = {}
    seen = 0
    for _ in range(100):
        for tp, records in consumer.poll(timeout_ms=200).items():
            out.setdefault(tp.partition, []).extend((r.key, r.value) for r in records)
            seen += len(records)
        if seen >= expected:
            break
    consumer.close()
    return out


def test_every_record_lands_on_its_keys_partition_in_order(broker: EmbeddedBroker) -> None:
    topic = TopicSpec(f"test.publish-{uuid.uuid4().hex[:6]}", "publisher test")
    ensure_topics(broker.bootstrap_servers, partitions=4, replication_factor=1, topics=[topic])
    # 3,000 records over 50 keys, some large enough to need several batches
    messages = [
        (f"key-{i % 50}".encode(), f"{i:05d}".encode() + b"x" * (i % 7) * 500) for i in range(3000)
    ]

    async def run() -> None:
        publisher = KafkaPublisher(
            lambda: AIOKafkaProducer(
                bootstrap_servers=broker.bootstrap_servers, acks="all", max_batch_size=16384
            )
        )
        try:
            await publisher.publish(topic.name, messages[:1000])
            await publisher.publish(topic.name, messages[1000:])
            await publisher.publish(topic.name, [])
        finally:
            await publisher.stop()

    run_coroutine(run)
    stored = read_all(broker.bootstrap_servers, topic.name, len(messages))
    assert sum(len(v) for v in stored.values()) == len(messages)
    for partition, records in stored.items():
        for key, _value in records:  # the Java client's rule, as kafka-python applies it
            assert (murmur2(key) & 0x7FFFFFFF) % 4 == partition
        by_key: dict[bytes, list[bytes]] = {}
        for key, value in records:
            by_key.setdefault(key, []).append(value[:5])
        for key, values in by_key.items():
            assert values == sorted(values), f"{key!r} out of order"


def test_concurrent_small_publishes_all_land_each_in_its_own_order(
    broker: EmbeddedBroker,
) -> None:
    """The console's mode: many small publishes at once, through the accumulator."""
    topic = TopicSpec(f"test.small-{uuid.uuid4().hex[:6]}", "small publishes test")
    ensure_topics(broker.bootstrap_servers, partitions=4, replication_factor=1, topics=[topic])
    # each publish: two records of one key, "a" then "b" (a call and its follow-up)
    publishes = [
        [
            (f"cell-{i % 7}".encode(), f"a{i:05d}".encode()),
            (f"cell-{i % 7}".encode(), f"b{i:05d}".encode()),
        ]
        for i in range(300)
    ]

    async def run() -> None:
        publisher = KafkaPublisher(
            lambda: AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=2),
            accumulate_up_to=8,
        )
        try:
            for start in range(0, len(publishes), 50):  # 50 callers at a time
                await asyncio.gather(
                    *(publisher.publish(topic.name, p) for p in publishes[start : start + 50])
                )
        finally:
            await publisher.stop()

    run_coroutine(run)
    stored = read_all(broker.bootstrap_servers, topic.name, 2 * len(publishes))
    values = [v for records in stored.values() for _k, v in records]
    assert sorted(values) == sorted(v for p in publishes for _k, v in p)
    for partition, records in stored.items():
        position = {value: n for n, (_key, value) in enumerate(records)}
        for key, value in records:
            assert (murmur2(key) & 0x7FFFFFFF) % 4 == partition
            if value.startswith(b"a"):
                assert position[value] < position[b"b" + value[1:]], f"{value!r} after its b"


def test_a_record_without_a_key_is_refused(broker: EmbeddedBroker) -> None:
    async def run() -> None:
        publisher = KafkaPublisher(
            lambda: AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
        )
        try:
            await publisher.publish("anything", [(b"", b"{}")])
        finally:
            await publisher.stop()

    with pytest.raises(BrokerError, match="need a key"):
        run_coroutine(run)


def test_from_settings_threads_publish_and_a_broker_that_is_away_is_a_broker_error(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    topic = TopicSpec(f"test.blocking-{uuid.uuid4().hex[:6]}", "blocking publisher test")
    ensure_topics(broker.bootstrap_servers, partitions=4, replication_factor=1, topics=[topic])
    settings = load_settings(
        broker={"bootstrap_servers": broker.bootstrap_servers, "flavor": "tansu"},
        data={"dir": tmp_path},
    )
    blocking = BlockingPublisher(kafka_publisher(settings, client_id="it-blocking"))
    try:
        blocking.publish(topic.name, [(b"k", b"one"), (b"k", b"two")])
    finally:
        blocking.close()
    stored = read_all(broker.bootstrap_servers, topic.name, 2)
    assert [v for records in stored.values() for _k, v in records] == [b"one", b"two"]

    away = settings.updated(broker={"bootstrap_servers": f"127.0.0.1:{free_port()}"})
    nobody = BlockingPublisher(kafka_publisher(away, client_id="it-away"))
    try:
        with pytest.raises(BrokerError, match="cannot start the producer"):
            nobody.publish(topic.name, [(b"k", b"lost")])
    finally:
        nobody.close()
