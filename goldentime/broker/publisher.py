"""The one way to publish: keyed records to a topic, acknowledged before the call returns.

:class:`Publisher` is the contract every domain is handed (injected, never built by the
domain): ``publish(topic, messages)`` sends keyed records, keeps their order per key, and
returns only when every one is acknowledged (acks=all), else raises
:class:`~goldentime.errors.BrokerError`, so a caller that commits offsets or answers 202 after
it never loses a record (at least once). ``stop`` flushes and closes it for good.

- :class:`KafkaPublisher` is the implementation (aiokafka; built by
  :func:`goldentime.broker.clients.kafka_publisher`, the one factory, from settings).
- :class:`InMemoryPublisher` is its fake: same contract, keeps what was published.
- :class:`BlockingPublisher` lets threads (sensor ingest, camera pipelines) call any
  Publisher: it runs the publisher on an event loop of its own and waits for the acks.
- :func:`publish_record` publishes one wire record (encoded) with a string key.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from goldentime.contracts import Record, decode, encode
from goldentime.errors import BrokerError
from goldentime.topics import TopicSpec

Message = tuple[bytes, bytes]  # key, value
RecordT = TypeVar("RecordT", bound=Record)
PARTITION_MEMO_MAX = 100_000  # remembered key partitions (incident ids repeat across topics)
# For a publisher of many concurrent small publishes (the console's intake under a burst of
# calls): publishes up to this size go through the producer's accumulator (``send``), so that
# they share produce requests within the linger time; a whole batch per publish would be one
# produce request each (measured: the 100/s burst's p99 from ~200 to ~400 ms).
CONCURRENT_SMALL_MAX = 8
BLOCKING_TIMEOUT_S = 30.0  # a blocking publish waits at most this long for the acks


class Publisher(Protocol):
    """Keyed records to a topic, acknowledged before ``publish`` returns (BrokerError if not)."""

    async def publish(self, topic: str, messages: Sequence[Message]) -> None:
        """Send ``messages`` (key, value) to ``topic``, per-key order kept; wait for the acks."""
        ...

    async def stop(self) -> None:
        """Flush and close; later publishes raise BrokerError."""
        ...


async def publish_record(
    publisher: Publisher, topic: TopicSpec, record: Record, *, key: str
) -> None:
    """Publish one wire record on ``topic`` keyed by ``key`` and wait for the ack."""
    await publisher.publish(topic.name, [(key.encode(), encode(record))])


def _check(topic: str, messages: Sequence[Message]) -> None:
    """What both implementations refuse: no topic, a record without a key."""
    if not topic:
        raise BrokerError("publish needs a topic name")
    for key, _value in messages:
        if not key:
            raise BrokerError(f"records to {topic} need a key")


class KafkaPublisher:
    """The :class:`Publisher` on aiokafka: each topic's records go out as whole record batches.

    A worker that consumed a batch must not commit its offsets before its outputs are on the
    broker. Sending record by record through ``send`` costs a future, an accumulator lookup and
    a partitioner call each, about 20 microseconds in Python; here the records are grouped by
    partition (the client's default partitioner, so keys land where every other producer puts
    them) and handed over as whole batches. Started on first use, from the event loop that
    uses it (so a process without a broker still starts; a failed start is retried on the next
    publish). With ``accumulate_up_to`` (for a process of many concurrent small publishes, the
    console), publishes of at most that many records go through the producer's accumulator
    instead, so that they share produce requests. ``producer_factory`` builds the aiokafka
    producer
    (:func:`goldentime.broker.clients.kafka_publisher` from settings; tests inject their own).
    """

    def __init__(
        self, producer_factory: Callable[[], AIOKafkaProducer], *, accumulate_up_to: int = 0
    ) -> None:
        self._factory = producer_factory
        self._accumulate_up_to = accumulate_up_to
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()
        self._partitioner = DefaultPartitioner()
        # key -> partition per partition count: the partitioner hashes in Python (murmur2)
        self._partition_of: dict[tuple[bytes, int], int] = {}
        self._stopped = False

    async def _started(self) -> AIOKafkaProducer:
        async with self._starting:
            if self._stopped:
                raise BrokerError("the publisher is stopped (its process is shutting down)")
            if self._producer is None:
                producer = self._factory()
                try:
                    await producer.start()
                except (KafkaError, OSError) as err:
                    await producer.stop()
                    raise BrokerError(f"cannot start the producer: {err}") from err
                except asyncio.CancelledError:  # a caller's wait ran out: leave nothing running
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer

    async def publish(self, topic: str, messages: Sequence[Message]) -> None:
        """Send ``messages`` to ``topic`` (per-key order kept) and wait for the acks."""
        if not messages:
            return
        _check(topic, messages)
        producer = await self._started()
        if len(messages) <= self._accumulate_up_to:
            await self._send_each(producer, topic, messages)
            return
        try:
            partitions = sorted(await producer.partitions_for(topic))
            count = len(partitions)
            known = self._partition_of
            if len(known) > PARTITION_MEMO_MAX:
                known.clear()
            by_partition: dict[int, list[Message]] = {}
            for key, value in messages:
                partition = known.get((key, count))
                if partition is None:
                    partition = known[(key, count)] = self._partitioner(key, partitions, partitions)
                by_partition.setdefault(partition, []).append((key, value))
            acks: list[Any] = []
            for partition, items in by_partition.items():
                batch = producer.create_batch()
                for key, value in items:
                    if batch.append(key=key, value=value, timestamp=None) is None:
                        batch.close()
                        acks.append(await producer.send_batch(batch, topic, partition=partition))
                        batch = producer.create_batch()
                        if batch.append(key=key, value=value, timestamp=None) is None:
                            raise BrokerError(
                                f"a record of {len(value)} bytes does not fit a batch to {topic}"
                            )
                batch.close()
                acks.append(await producer.send_batch(batch, topic, partition=partition))
            await asyncio.gather(*acks)
        except (KafkaError, OSError) as err:
            raise BrokerError(
                f"cannot publish {len(messages)} record(s) to {topic}: {err}"
            ) from err

    @staticmethod
    async def _send_each(
        producer: AIOKafkaProducer, topic: str, messages: Sequence[Message]
    ) -> None:
        """A few records through the accumulator (in order: per-key order kept), acks awaited."""
        try:
            acks = [await producer.send(topic, value, key=key) for key, value in messages]
            await asyncio.gather(*acks)
        except (KafkaError, OSError) as err:
            raise BrokerError(
                f"cannot publish {len(messages)} record(s) to {topic}: {err}"
            ) from err

    async def stop(self) -> None:
        async with self._starting:
            self._stopped = True
            if self._producer is not None:
                producer, self._producer = self._producer, None
                await producer.stop()


@dataclass(frozen=True, slots=True)
class Published:
    """One record an :class:`InMemoryPublisher` took."""

    topic: str
    key: bytes
    value: bytes


class InMemoryPublisher:
    """The :class:`Publisher` fake for tests and ``--no-publish`` runs: keeps every record.

    Same contract as :class:`KafkaPublisher`: a record without a key, a publish after
    :meth:`stop`, or a failure set with :meth:`fail_next` / ``unavailable`` raises BrokerError
    and keeps nothing of that call. Safe to read from other threads while it is used.
    """

    def __init__(self) -> None:
        self._records: list[Published] = []
        self._lock = threading.Lock()
        self._failures = 0
        self.unavailable = False  # every publish fails, as with a broker that is away
        self.stopped = False
        self.calls = 0  # publish calls that were acknowledged

    def fail_next(self, count: int = 1) -> None:
        """The next ``count`` publishes raise BrokerError (a broker that refuses, then heals)."""
        if count < 0:
            raise ValueError("count must be >= 0")
        with self._lock:
            self._failures = count

    async def publish(self, topic: str, messages: Sequence[Message]) -> None:
        if not messages:
            return
        _check(topic, messages)
        with self._lock:
            if self.stopped:
                raise BrokerError("the publisher is stopped (its process is shutting down)")
            if self.unavailable or self._failures > 0:
                self._failures = max(self._failures - 1, 0)
                raise BrokerError(f"cannot publish {len(messages)} record(s) to {topic}: refused")
            self._records += [Published(topic, key, value) for key, value in messages]
            self.calls += 1

    async def stop(self) -> None:
        with self._lock:
            self.stopped = True

    @property
    def records(self) -> list[Published]:
        """Everything published, in order."""
        with self._lock:
            return list(self._records)

    def messages(self, topic: str | TopicSpec) -> list[Message]:
        """The (key, value) pairs published on ``topic``, in order."""
        name = topic.name if isinstance(topic, TopicSpec) else topic
        return [(r.key, r.value) for r in self.records if r.topic == name]

    def decoded(self, topic: str | TopicSpec, model: type[RecordT]) -> list[RecordT]:
        """The records published on ``topic``, decoded as ``model`` (ContractError if not)."""
        return [decode(model, value) for _key, value in self.messages(topic)]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


class BlockingPublisher:
    """Any :class:`Publisher` for threads: ``publish`` blocks until the records are acked.

    The publisher runs on an event loop of this adapter's own (a daemon thread started on the
    first publish), so callers in any thread share one producer; a call that is not acked
    within ``timeout_s`` raises BrokerError (what was sent may still arrive: at least once).
    :meth:`close` stops the publisher and the loop.
    """

    def __init__(
        self,
        publisher: Publisher,
        *,
        timeout_s: float = BLOCKING_TIMEOUT_S,
        name: str = "publisher",
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.publisher = publisher
        self._timeout_s = timeout_s
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise BrokerError(f"{self._name} is closed")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            if threading.current_thread() is self._thread:
                raise BrokerError(f"{self._name}: a blocking publish from its own loop")
            return self._loop

    def _wait(self, future: Future[None], what: str, timeout_s: float) -> None:
        try:
            future.result(timeout_s)
        except TimeoutError as err:
            future.cancel()
            raise BrokerError(f"{what} not acknowledged within {timeout_s:g} s") from err

    def publish(
        self, topic: str, messages: Sequence[Message], *, timeout_s: float | None = None
    ) -> None:
        """Send ``messages`` to ``topic`` and wait for the acks (BrokerError if none come)."""
        if not messages:
            return
        loop = self._running_loop()
        future = asyncio.run_coroutine_threadsafe(self.publisher.publish(topic, messages), loop)
        self._wait(future, f"{len(messages)} record(s) to {topic}", timeout_s or self._timeout_s)

    def close(self) -> None:
        """Stop the publisher (flushing what it holds) and its loop; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self._wait(
                asyncio.run_coroutine_threadsafe(self.publisher.stop(), loop),
                "the publisher's stop",
                self._timeout_s,
            )
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(self._timeout_s)
            if not thread.is_alive():
                loop.close()
