"""What every dispatch topic handler shares: publish, store, dead-letter, count, wake.

A :class:`Pipeline` holds the worker's seams (the context's database sessions, executor,
clock and publisher) and the few operations every handler in ``dispatch.handlers`` is made
of. It knows no consumer: tests build one over a database and an in-memory publisher and call
the handlers directly.

Nothing valid is ever dropped: publishing retries while the broker fails and database work
retries while the database fails, both with backoff (a repeat is harmless: processing is
idempotent). ``guarded`` keeps an error from escaping a batch: after three failed attempts the
batch's records go to the dead-letter topic with the reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from dispatch.context import DispatchContext
from dispatch.correlate import Signal
from dispatch.intake import BatchOutcome, ingest
from dispatch.mci_commands import MciServices
from dispatch.reroute import sync_routes
from dispatch.sensor_intake import AlarmHandler
from dispatch.unit_store import unit_record
from goldentime import outbox, topics
from goldentime.contracts import DeadLetter, Record, TimelineEntry, encode
from goldentime.errors import BrokerError, StoreError
from goldentime.metrics import Metrics, Outcome, ReasonClass
from goldentime.retry import Backoff, OnRetry, RetriesExhaustedError, retry_async

log = logging.getLogger(__name__)

STORE_RETRY_BASE_S = 0.2
STORE_RETRY_MAX_S = 10.0
GUARD_ATTEMPTS = 3
EVERY_INCIDENT = "*"  # woken with this, the recommender looks at every open incident

T = TypeVar("T")
Processed = tuple[str, list[str]]  # topic and ids of consumed records (their outbox rows)


def message_key(record: Record) -> str:
    """The key a record is published with (its partition and, on compacted topics, identity)."""
    return record.incident_id if isinstance(record, TimelineEntry) else record.id


class Pipeline:
    """The shared operations of the dispatch handlers, over one worker's context.

    ``recommendations=False``: nothing is queued for the recommender (the intake benchmark).
    ``mci``: the ERs and road ETAs of the MCI commands; ``alarms``: the sensor alarm handler.
    """

    def __init__(
        self,
        ctx: DispatchContext,
        *,
        metrics: Metrics,
        mci: MciServices,
        alarms: AlarmHandler,
        recommendations: bool = True,
    ) -> None:
        self.ctx = ctx
        self.metrics = metrics
        self.mci = mci
        self.alarms = alarms
        self.recommendations = recommendations
        self.wake_queue: asyncio.Queue[str] = asyncio.Queue()

    def wake(self, incident_ids: Iterable[str]) -> None:
        """Ask the recommender to look at these incidents (``EVERY_INCIDENT``: all open)."""
        if self.recommendations:
            for incident_id in incident_ids:
                self.wake_queue.put_nowait(incident_id)

    async def publish(self, spec: topics.TopicSpec, records: Sequence[Record]) -> None:
        """Send ``records`` and wait until the broker has them all (then offsets may move).

        Keyed by record id, except timeline entries: by incident id, so one incident's history
        stays in one partition, in order.
        """
        messages = [(message_key(r).encode(), encode(r)) for r in records]
        await retry_async(
            partial(self.ctx.publisher.publish, spec.name, messages),
            retry_if=lambda err: isinstance(err, BrokerError),
            attempts=None,  # valid results are never dropped; a repeat is harmless (idempotent)
            backoff=_backoff(),
            on_retry=_retrying("publishing to %s failed", spec.name),
        )

    async def dead_letter(self, message: Any, reason: str, *, reason_class: ReasonClass) -> None:
        """Dead-letter a consumed message (an aiokafka record or anything shaped like one)."""
        ctx = self.ctx
        letter = DeadLetter.for_message(
            message, reason=reason, consumer=ctx.consumer_name, at=ctx.clock.now()
        )
        log.warning("dead-lettered %s: %s", letter.id, reason)
        await self.publish(topics.DEADLETTER, [letter])
        self.metrics.record_dead_letter(topic=letter.source_topic, reason_class=reason_class)

    def record_done(self, topic: str, records: Sequence[Record], outcome: Outcome) -> None:
        """Count ``records`` as handled and observe their event time -> now."""
        self.metrics.record_processed(topic=topic, outcome=outcome, count=len(records))
        self.metrics.observe_latencies(
            topic=topic, event_times=(r.event_time for r in records), now=self.ctx.clock.now()
        )

    async def in_store(self, work: Callable[[], T], what: str) -> T:
        """Run database work off the loop; retry with backoff while the database fails."""
        loop = asyncio.get_running_loop()
        return await retry_async(
            partial(loop.run_in_executor, self.ctx.executor, work),
            retry_if=lambda err: isinstance(err, StoreError | SQLAlchemyError),
            attempts=None,
            backoff=_backoff(),
            on_retry=_retrying("database unavailable for %s", what),
        )

    async def store(self, signals: list[Signal], *, processed: Processed) -> BatchOutcome:
        """Correlate and store (in the store thread, retried while the database fails); in the
        same transaction, forget the intake outbox rows of the ``processed`` records (topic,
        ids): they are part of the record now."""
        ctx = self.ctx
        topic, ids = processed

        def work() -> BatchOutcome:
            return ingest(
                ctx.writers,
                signals,
                now=ctx.clock.now(),
                catalog=ctx.catalog,
                locate_gu=ctx.locate_gu,
                also=partial(outbox.settle, topic=topic, record_ids=ids) if ids else None,
                station_areas=self.mci.station_areas if self.mci is not None else None,
            )

        return await self.in_store(work, f"{len(signals)} signal(s)")

    async def announce(self, signals: list[Signal], outcome: BatchOutcome) -> None:
        """Publish what a stored batch changed and wake the recommender for it."""
        await self.publish(topics.INCIDENTS, outcome.incidents)
        await self.publish(topics.TIMELINE, outcome.timeline)
        self.wake(incident.id for incident in outcome.incidents)
        if outcome.new_incident_ids or outcome.duplicates:
            log.info(
                "%d signal(s): %d new incident(s), %d duplicate(s)",
                len(signals),
                len(outcome.new_incident_ids),
                len(outcome.duplicates),
            )

    async def routed(self, units: Sequence[Record]) -> Sequence[Record]:
        """Plan routes for units now on their way (drop others'); their current states."""
        if not units:
            return units
        ctx = self.ctx
        ids = [u.id for u in units]

        def work() -> list[Record]:
            with ctx.writers.begin() as session:
                changed = {
                    row.id: unit_record(row)
                    for row in sync_routes(session, ctx.network, ids, now=ctx.clock.now())
                }
            return [changed.get(u.id, u) for u in units]

        return await self.in_store(work, f"routes of {len(ids)} unit(s)")

    async def guarded(
        self, messages: Sequence[Any], body: Callable[[], Awaitable[None]], what: str
    ) -> bool:
        """Run ``body``; never let an error escape a batch. True when the body succeeded; after
        the last failed attempt, ``messages`` are dead-lettered with the error."""

        def failed(err: BaseException, attempt: int, _delay: float) -> None:
            log.error("%s failed (attempt %d)", what, attempt, exc_info=err)

        try:
            await retry_async(
                body, retry_if=lambda _err: True, attempts=GUARD_ATTEMPTS, on_retry=failed
            )
            return True
        except RetriesExhaustedError as exhausted:
            err = exhausted.last
            failed(err, exhausted.attempts, 0.0)
            for message in messages:
                await self.dead_letter(
                    message,
                    f"processing failed: {type(err).__name__}: {err}",
                    reason_class=ReasonClass.PROCESSING,
                )
        return False


def _backoff() -> Backoff:
    return Backoff(base_s=STORE_RETRY_BASE_S, cap_s=STORE_RETRY_MAX_S)


def _retrying(message: str, *args: object) -> OnRetry:
    """Logs each failed attempt as ``message``, then the delay and the error."""

    def log_it(err: BaseException, _attempt: int, delay: float) -> None:
        log.error(message + ", retrying in %.1fs: %s", *args, delay, err)

    return log_it
