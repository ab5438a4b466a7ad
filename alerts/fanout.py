"""Fan-out of one alert to many recipients, exactly once per recipient, crash or not.

1. ``plan`` writes one ``pending`` delivery row per recipient, keyed by an idempotency key
   (alert, channel, recipient); planning twice adds nothing.
2. ``run`` claims a batch in one transaction (``in_flight``, committed *before* calling the
   provider), sends it on a few threads (each channel paces itself), then records the
   outcomes in one transaction. While batch *k* is sent, batch *k - 1* is recorded and batch
   *k + 1* claimed, so the threads never wait for the database between batches; every
   message is claimed before it is sent and at most two batches are ever ``in_flight``.
3. If the process dies between 2's commit and the outcome, the rows stay ``in_flight``. On
   resume each such row is first reconciled with the provider (``find_sent``): if the
   provider has the message, it is recorded as sent and not sent again. A send that raises
   anything but an ``AlertError`` (a crash) stops the other threads taking new rows.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.alert_store import DeliveryRow, DeliveryState, begin_write, idempotency_key
from alerts.channels.base import MessageChannel, OutboundMessage, SendResult
from alerts.errors import AlertError, ChannelError
from alerts.geotarget import Recipient
from alerts.receipts import apply_stored_receipts


@dataclass(frozen=True, slots=True)
class FanOutReport:
    alert_id: str
    channel: str
    sent: int
    failed: int
    reconciled: int
    skipped: int


def plan(
    sessions: sessionmaker[Session],
    *,
    alert_id: str,
    channel: str,
    recipients: list[Recipient],
    now: datetime,
) -> int:
    """Create the missing pending rows; returns how many were added."""
    with sessions() as session:
        begin_write(session)
        existing = set(
            session.scalars(
                select(DeliveryRow.recipient).where(
                    DeliveryRow.alert_id == alert_id, DeliveryRow.channel == channel
                )
            )
        )
        rows = [
            {
                "alert_id": alert_id,
                "channel": channel,
                "recipient": r.phone,
                "language": r.language,
                "idempotency_key": idempotency_key(alert_id, channel, r.phone),
                "state": DeliveryState.PENDING,
                "attempts": 0,
                "receipt_rank": 0,
                "updated_at": now,
            }
            for r in recipients
            if r.phone not in existing
        ]
        if rows:
            session.execute(insert(DeliveryRow), rows)
        session.commit()
    return len(rows)


@dataclass(frozen=True, slots=True)
class _Outcome:
    row_id: int
    result: SendResult | None
    error: str | None
    reconciled: bool


_DELIVERIES = cast(Table, DeliveryRow.__table__)
_RECORD_SENT = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("row_id"))
    .values(
        state=DeliveryState.SENT,
        provider_id=bindparam("provider"),
        last_error=None,
        updated_at=bindparam("at"),
    )
)
_RECORD_FAILED = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("row_id"))
    .values(state=DeliveryState.FAILED, last_error=bindparam("error"), updated_at=bindparam("at"))
)


class _Batch:
    """One claimed batch being sent by the worker threads, which take rows off a shared deque."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows: deque[dict[str, Any]] = deque(rows)
        self.stop = threading.Event()
        self.futures: list[Future[list[_Outcome]]] = []

    def outcomes(self) -> list[_Outcome]:
        """All outcomes, once every thread is done; re-raises a crash of any of them."""
        done: list[_Outcome] = []
        for future in self.futures:
            done.extend(future.result())
        return done


class FanOut:
    """Runs the planned deliveries of one alert over one channel."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        channel: MessageChannel,
        now: Callable[[], datetime],
        workers: int = 4,
        batch_size: int = 500,
    ) -> None:
        if workers < 1 or batch_size < 1:
            raise ValueError("workers and batch_size must be at least 1")
        self.sessions = sessions
        self.channel = channel
        self.now = now
        self.workers = workers
        self.batch_size = batch_size

    def _deliver(self, row: dict[str, Any], bodies: dict[str, str], validity_s: int) -> _Outcome:
        body = bodies.get(row["language"]) or bodies["ko"]
        message = OutboundMessage(
            key=row["idempotency_key"],
            to=row["recipient"],
            body=body,
            language=row["language"],
            validity_s=validity_s,
        )
        try:
            if row["state"] == DeliveryState.IN_FLIGHT:
                found = self.channel.find_sent(message)
                if found is not None:
                    return _Outcome(row["id"], found, None, reconciled=True)
            return _Outcome(row["id"], self.channel.send(message), None, reconciled=False)
        except AlertError as err:  # ChannelError after retries, TextBudgetError, ...
            return _Outcome(row["id"], None, str(err), reconciled=False)

    def _drain(self, batch: _Batch, bodies: dict[str, str], validity_s: int) -> list[_Outcome]:
        outcomes: list[_Outcome] = []
        try:
            while not batch.stop.is_set():
                try:
                    row = batch.rows.popleft()
                except IndexError:
                    break
                outcomes.append(self._deliver(row, bodies, validity_s))
        except BaseException:
            batch.stop.set()  # a crash: no thread takes another row
            raise
        return outcomes

    def _claim(self, alert_id: str, *, after_id: int) -> list[dict[str, Any]]:
        """Mark the next batch (rows past ``after_id``) ``in_flight`` and commit, before any
        of it is sent. The cursor keeps the batches being sent or recorded out of the claim."""
        with self.sessions() as session:
            begin_write(session)
            rows = [
                dict(r._mapping)
                for r in session.execute(
                    select(
                        DeliveryRow.id,
                        DeliveryRow.recipient,
                        DeliveryRow.language,
                        DeliveryRow.idempotency_key,
                        DeliveryRow.state,
                    )
                    .where(
                        DeliveryRow.alert_id == alert_id,
                        DeliveryRow.channel == self.channel.name,
                        DeliveryRow.state.in_([DeliveryState.PENDING, DeliveryState.IN_FLIGHT]),
                        DeliveryRow.id > after_id,
                    )
                    .order_by(DeliveryRow.id)
                    .limit(self.batch_size)
                )
            ]
            if rows:
                session.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.id.in_([r["id"] for r in rows]))
                    .values(
                        state=DeliveryState.IN_FLIGHT,
                        attempts=DeliveryRow.attempts + 1,
                        updated_at=self.now(),
                    )
                    .execution_options(synchronize_session=False)
                )
                session.commit()
        return rows

    def run(self, *, alert_id: str, bodies: dict[str, str], validity_s: int) -> FanOutReport:
        """Send every pending (or in-flight from a crash) delivery of ``alert_id``."""
        if "ko" not in bodies:
            raise ChannelError("fan-out needs at least the Korean text")
        sent = failed = reconciled = 0
        name = self.channel.name
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="fanout") as pool:
            unrecorded: list[_Outcome] = []
            rows = self._claim(alert_id, after_id=0)
            while rows:
                batch = _Batch(rows)
                batch.futures = [
                    pool.submit(self._drain, batch, bodies, validity_s)
                    for _ in range(min(self.workers, len(rows)))
                ]
                try:
                    # While this batch is sent: record the previous one, claim the next one.
                    self._record(unrecorded)
                    rows = self._claim(alert_id, after_id=rows[-1]["id"])
                except BaseException:
                    batch.stop.set()
                    raise
                unrecorded = batch.outcomes()
                sent += sum(1 for o in unrecorded if o.result is not None)
                failed += sum(1 for o in unrecorded if o.result is None)
                reconciled += sum(1 for o in unrecorded if o.reconciled)
            self._record(unrecorded)
        with self.sessions() as session:
            total_sent = session.scalar(
                select(func.count(DeliveryRow.id)).where(
                    DeliveryRow.alert_id == alert_id,
                    DeliveryRow.channel == name,
                    DeliveryRow.state == DeliveryState.SENT,
                )
            )
        skipped = int(total_sent or 0) - sent
        return FanOutReport(alert_id, name, sent, failed, reconciled, max(skipped, 0))

    def _record(self, outcomes: list[_Outcome]) -> None:
        """Record a batch's outcomes in one transaction (one executemany per outcome kind)."""
        if not outcomes:
            return
        now = self.now()
        ok = [(o.row_id, o.result) for o in outcomes if o.result is not None]
        bad = [o for o in outcomes if o.result is None]
        with self.sessions() as session:
            begin_write(session)
            if ok:
                session.execute(
                    _RECORD_SENT,
                    [{"row_id": i, "provider": r.provider_id, "at": now} for i, r in ok],
                )
            if bad:
                session.execute(
                    _RECORD_FAILED,
                    [{"row_id": o.row_id, "error": (o.error or "")[:2000], "at": now} for o in bad],
                )
            apply_stored_receipts(session, [r.provider_id for _, r in ok])
            session.commit()
