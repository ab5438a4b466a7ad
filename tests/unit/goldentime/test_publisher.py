"""The one publisher contract: the in-memory fake, the blocking adapter, publish_record."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from gt_testing import run_coroutine

from goldentime import topics
from goldentime.broker.publisher import (
    BlockingPublisher,
    InMemoryPublisher,
    Message,
    Published,
    Publisher,
    publish_record,
)
from goldentime.contracts import DeadLetter
from goldentime.errors import BrokerError

AT = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def letter(n: int) -> DeadLetter:
    return DeadLetter.for_payload(
        f"bad {n}".encode(), reason="not JSON", source_topic="calls", consumer="test", at=AT
    )


def test_the_fake_keeps_keyed_records_in_order_by_topic() -> None:
    fake = InMemoryPublisher()

    async def run() -> None:
        await fake.publish("a", [(b"k1", b"1"), (b"k2", b"2")])
        await fake.publish("b", [(b"k1", b"3")])
        await fake.publish("a", [(b"k1", b"4")])
        await fake.publish("a", [])  # nothing to send: nothing happens

    run_coroutine(run)
    assert fake.messages("a") == [(b"k1", b"1"), (b"k2", b"2"), (b"k1", b"4")]
    assert fake.records[2] == Published("b", b"k1", b"3")
    assert fake.calls == 3


def test_the_fake_refuses_what_the_broker_refuses_and_keeps_nothing_of_it() -> None:
    fake = InMemoryPublisher()

    async def publish(messages: Sequence[Message], topic: str = "a") -> None:
        await fake.publish(topic, messages)

    with pytest.raises(BrokerError, match="need a key"):
        run_coroutine(lambda: publish([(b"k", b"1"), (b"", b"2")]))
    with pytest.raises(BrokerError, match="topic"):
        run_coroutine(lambda: publish([(b"k", b"1")], topic=""))
    fake.fail_next(2)
    for _ in range(2):
        with pytest.raises(BrokerError, match="refused"):
            run_coroutine(lambda: publish([(b"k", b"1")]))
    run_coroutine(lambda: publish([(b"k", b"ok")]))  # healed
    fake.unavailable = True
    with pytest.raises(BrokerError):
        run_coroutine(lambda: publish([(b"k", b"2")]))
    fake.unavailable = False
    run_coroutine(fake.stop)
    with pytest.raises(BrokerError, match="stopped"):
        run_coroutine(lambda: publish([(b"k", b"3")]))
    assert fake.messages("a") == [(b"k", b"ok")]


def test_publish_record_encodes_the_record_with_its_key() -> None:
    fake = InMemoryPublisher()
    records = [letter(1), letter(2)]

    async def run() -> None:
        for record in records:
            await publish_record(fake, topics.DEADLETTER, record, key=record.id)

    run_coroutine(run)
    assert fake.decoded(topics.DEADLETTER, DeadLetter) == records
    assert [key for key, _ in fake.messages(topics.DEADLETTER)] == [r.id.encode() for r in records]


def test_the_fake_is_a_publisher() -> None:
    publisher: Publisher = InMemoryPublisher()  # mypy checks the protocol here
    assert isinstance(publisher, InMemoryPublisher)


def test_blocking_publish_returns_after_the_ack_from_any_thread() -> None:
    fake = InMemoryPublisher()
    blocking = BlockingPublisher(fake, name="test-publisher")
    try:
        threads = [
            threading.Thread(
                target=lambda n=n: blocking.publish(
                    "t", [(f"k{n}".encode(), b"%d" % i) for i in range(50)]
                )
            )
            for n in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        blocking.publish("t", [(b"k0", b"last")])
        assert len(fake.messages("t")) == 201  # every call returned after its records were kept
        for n in range(4):
            mine = [v for k, v in fake.messages("t") if k == f"k{n}".encode()]
            assert mine[:50] == [b"%d" % i for i in range(50)]  # per-key order
    finally:
        blocking.close()
    assert fake.stopped
    with pytest.raises(BrokerError, match="closed"):
        blocking.publish("t", [(b"k", b"after close")])


def test_blocking_publish_raises_the_brokers_refusal() -> None:
    fake = InMemoryPublisher()
    blocking = BlockingPublisher(fake)
    try:
        fake.fail_next()
        with pytest.raises(BrokerError, match="refused"):
            blocking.publish("t", [(b"k", b"v")])
        blocking.publish("t", [(b"k", b"v")])
    finally:
        blocking.close()
    assert fake.messages("t") == [(b"k", b"v")]


class NeverAcks:
    """A broker that takes the records and never answers."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()

    async def publish(self, topic: str, messages: Sequence[Message]) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise

    async def stop(self) -> None:
        return None


def test_a_blocking_publish_without_an_ack_fails_after_its_timeout() -> None:
    never = NeverAcks()
    blocking = BlockingPublisher(never, timeout_s=30)
    try:
        with pytest.raises(BrokerError, match=r"not acknowledged within 0\.05 s"):
            blocking.publish("t", [(b"k", b"v")], timeout_s=0.05)
        assert never.cancelled.wait(5)  # the send does not linger on the loop
    finally:
        blocking.close()


def test_closing_an_unused_blocking_publisher_starts_nothing() -> None:
    blocking = BlockingPublisher(InMemoryPublisher())
    blocking.close()
    blocking.close()
    with pytest.raises(ValueError, match="timeout_s"):
        BlockingPublisher(InMemoryPublisher(), timeout_s=0)
