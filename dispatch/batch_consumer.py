"""A lean, batch-at-a-time consumer for the high-volume intake topic (``calls``).

faust hands an agent one event at a time: conductor, channel queue, Event and ack bookkeeping
cost about 100 microseconds per record on this hardware, which caps a worker near 7-10k
records/s before any work is done (docs/dispatch.md). Calls are correlated a batch at a time
anyway, so the call intake reads whole fetches with aiokafka (the client faust itself uses)
and commits offsets itself, after the batch is stored and its outputs are acknowledged by the
broker: at least once, like the agents, with redelivered records changing nothing.

The consumer joins its own consumer group (``<app id>.calls``) so partitions are spread over
the workers by Kafka's standard assignor; a worker that dies is replaced after the session
timeout, and whatever it had not committed is read again by the new owner.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from goldentime.retry import Backoff, retry_async

log = logging.getLogger(__name__)

FinishBatch = Callable[[], Awaitable[None]]
# Phase one of a batch (decode, store) returns phase two (publish the results); see `run`.
BatchHandler = Callable[[Sequence[ConsumerRecord[bytes, bytes]]], Awaitable[FinishBatch]]
AssignedHook = Callable[[], Awaitable[None]]
RETRY_BASE_S = 0.2
RETRY_MAX_S = 10.0
MAX_IN_FLIGHT = 2  # one batch stored while the next is fetched and decoded
PARTITION_FETCH_BYTES = 1024 * 1024  # per partition and fetch: ~2,500 calls


class _Assigned(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, hook: AssignedHook | None) -> None:
        self._hook = hook

    async def on_partitions_revoked(self, revoked: Any) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Any) -> None:
        if self._hook is not None:
            await self._hook()


@dataclass(frozen=True, slots=True)
class BatchConsumerOptions:
    """How the batch consumer talks to the cluster (see ``batch_consumer_options``)."""

    bootstrap: str
    group_id: str
    client_id: str
    session_timeout_s: float
    fetch_max_wait_ms: int
    max_records: int = 2000


class BatchConsumer:
    """Reads ``topic`` in batches, hands each to a handler, commits after it is finished.

    Two batches are in flight: while one is stored (the handler's first phase, in the store
    thread) the next is fetched and decoded on the event loop. The second phases (publishing)
    run in batch order, and offsets are committed in that order, each after its batch's second
    phase returned. The handler must not raise for a bad record (it dead-letters it) and must
    retry store and broker failures itself: an error escaping it stops this consumer (the
    worker's supervisor restarts the process) rather than skipping records.
    """

    def __init__(self, topic: str, *, options: BatchConsumerOptions) -> None:
        self._topic = topic
        self._options = options
        self._consumer: AIOKafkaConsumer | None = None
        self._draining = asyncio.Event()
        self._stopped = asyncio.Event()

    def assignment(self) -> set[TopicPartition]:
        """The partitions this worker holds now (empty before the group is joined)."""
        if self._consumer is None:
            return set()
        try:
            return set(self._consumer.assignment())
        except IllegalStateError:
            return set()

    async def offsets(
        self,
    ) -> tuple[dict[tuple[str, int], int | None], dict[tuple[str, int], int | None]]:
        """Position and high watermark (from the last fetch) of every held partition."""
        consumer = self._consumer
        positions: dict[tuple[str, int], int | None] = {}
        highwaters: dict[tuple[str, int], int | None] = {}
        if consumer is None:
            return positions, highwaters
        for tp in self.assignment():
            try:
                highwaters[(tp.topic, tp.partition)] = consumer.highwater(tp)
                positions[(tp.topic, tp.partition)] = await consumer.position(tp)
            except (IllegalStateError, KafkaError) as err:  # revoked mid-round: skip it
                log.debug("no offsets for %s[%d]: %s", tp.topic, tp.partition, err)
        return positions, highwaters

    async def run(self, handle: BatchHandler, *, on_assigned: AssignedHook | None = None) -> None:
        """Consume until cancelled; ``on_assigned`` runs after each rebalance."""
        options = self._options
        session_ms = int(options.session_timeout_s * 1000)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=options.bootstrap,
            group_id=options.group_id,
            client_id=options.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=session_ms,
            heartbeat_interval_ms=max(session_ms // 6, 500),
            fetch_max_wait_ms=options.fetch_max_wait_ms,
            max_poll_records=options.max_records,
            max_partition_fetch_bytes=PARTITION_FETCH_BYTES,
        )
        consumer.subscribe([self._topic], listener=_Assigned(on_assigned))
        self._consumer = consumer
        backoff = Backoff(base_s=RETRY_BASE_S, cap_s=RETRY_MAX_S)
        in_flight: list[tuple[asyncio.Task[None], dict[TopicPartition, int]]] = []
        try:
            await self._start(consumer)
            while not self._draining.is_set():
                try:
                    fetched = await consumer.getmany(
                        timeout_ms=options.fetch_max_wait_ms, max_records=options.max_records
                    )
                except KafkaError as err:
                    delay = backoff.next_delay()
                    log.error("reading %s failed, retrying in %.1fs: %s", self._topic, delay, err)
                    await asyncio.sleep(delay)
                    continue
                backoff.reset()
                records = [r for batch in fetched.values() for r in batch]
                if records:
                    after = in_flight[-1][0] if in_flight else None
                    task = asyncio.create_task(_process(handle, records, after=after))
                    offsets = {tp: batch[-1].offset + 1 for tp, batch in fetched.items() if batch}
                    in_flight.append((task, offsets))
                while in_flight and (len(in_flight) >= MAX_IN_FLIGHT or in_flight[0][0].done()):
                    await self._settle(consumer, in_flight.pop(0))
            while in_flight:  # draining: finish the batches in hand and commit them
                await self._settle(consumer, in_flight.pop(0))
        finally:
            self._consumer = None
            for task, _offsets in in_flight:  # not committed: read again by their next owner
                task.cancel()
            await asyncio.shield(consumer.stop())
            self._stopped.set()

    async def drain(self, *, timeout_s: float) -> bool:
        """Stop fetching, finish and commit the batches in hand, leave the group; True when
        that happened within ``timeout_s`` (else the uncommitted batches are read again by
        the partitions' next owner, which changes nothing)."""
        self._draining.set()
        if self._consumer is None and not self._stopped.is_set():
            return True  # never started
        try:
            await asyncio.wait_for(self._stopped.wait(), timeout_s)
        except TimeoutError:
            log.warning("call intake not drained within %.0fs", timeout_s)
            return False
        return True

    async def _settle(
        self,
        consumer: AIOKafkaConsumer,
        in_flight: tuple[asyncio.Task[None], dict[TopicPartition, int]],
    ) -> None:
        """Wait for a batch to be finished (its error stops the consumer), then commit it."""
        task, offsets = in_flight
        await task
        await self._commit(consumer, offsets)

    async def _start(self, consumer: AIOKafkaConsumer) -> None:
        def failed(err: BaseException, _attempt: int, delay: float) -> None:
            log.error("cannot join %s, retrying in %.1fs: %s", self._topic, delay, err)

        await retry_async(
            consumer.start,
            retry_if=lambda err: isinstance(err, KafkaError),
            attempts=None,  # until the broker takes us (it may be restarting)
            backoff=Backoff(base_s=RETRY_BASE_S, cap_s=RETRY_MAX_S),
            on_retry=failed,
        )

    @staticmethod
    async def _commit(consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as err:
            # The group rebalanced while the batch was processed: the new owner reads these
            # records again, which changes nothing (processing is idempotent).
            log.info("offsets not committed after a rebalance (redelivery is harmless): %s", err)


def batch_consumer_options(settings: Any, *, client_id: str) -> BatchConsumerOptions:
    """Options from the one settings model (the same broker, app id and timeouts as the
    agents; the group is the app id's own ``.calls``)."""
    return BatchConsumerOptions(
        bootstrap=settings.broker.bootstrap(),
        group_id=f"{settings.process.app_id}.calls",
        client_id=client_id,
        session_timeout_s=settings.broker.session_timeout_s,
        fetch_max_wait_ms=settings.broker.fetch_max_wait_ms,
    )


async def _process(
    handle: BatchHandler,
    records: Sequence[ConsumerRecord[bytes, bytes]],
    *,
    after: asyncio.Task[None] | None,
) -> None:
    """Both phases of one batch; the second waits for the previous batch's to be done."""
    finish = await handle(records)
    if after is not None:
        await after
    await finish()
