"""Fan-out of one alert to many recipients, exactly once per recipient, crash or not.

1. ``plan`` writes one ``pending`` delivery row per recipient, keyed by an idempotency key
   (alert, channel, recipient); planning twice adds nothing.
2. ``run`` takes a batch, marks it ``in_flight`` and commits *before* calling the provider,
   sends the batch on a few threads (each channel paces itself), then records the outcome.
3. If the process dies between 2's commit and the outcome, the rows stay ``in_flight``. On
   resume each such row is first reconciled with the provider (``find_sent``): if the
   provider has the message, it is recorded as sent and not sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.channels.base import MessageChannel, OutboundMessage, SendResult
from alerts.errors import AlertError, ChannelError
from alerts.geotarget import Recipient
from alerts.receipts import apply_stored_receipts
from alerts.store import DeliveryRow, DeliveryState, begin_write, idempotency_key


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


class FanOut:
    """Runs the planned deliveries of one alert over one channel."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        channel: MessageChannel,
        now: Callable[[], datetime],
        workers: int = 4,
        batch_size: int = 200,
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

    def run(self, *, alert_id: str, bodies: dict[str, str], validity_s: int) -> FanOutReport:
        """Send every pending (or in-flight from a crash) delivery of ``alert_id``."""
        if "ko" not in bodies:
            raise ChannelError("fan-out needs at least the Korean text")
        sent = failed = reconciled = 0
        name = self.channel.name
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="fanout") as pool:
            while True:
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
                                DeliveryRow.channel == name,
                                DeliveryRow.state.in_(
                                    [DeliveryState.PENDING, DeliveryState.IN_FLIGHT]
                                ),
                            )
                            .order_by(DeliveryRow.id)
                            .limit(self.batch_size)
                        )
                    ]
                    if not rows:
                        break
                    session.execute(
                        update(DeliveryRow)
                        .where(DeliveryRow.id.in_([r["id"] for r in rows]))
                        .values(
                            state=DeliveryState.IN_FLIGHT,
                            attempts=DeliveryRow.attempts + 1,
                            updated_at=self.now(),
                        )
                    )
                    session.commit()
                outcomes = list(pool.map(lambda r: self._deliver(r, bodies, validity_s), rows))
                self._record(outcomes)
                sent += sum(1 for o in outcomes if o.result is not None)
                failed += sum(1 for o in outcomes if o.result is None)
                reconciled += sum(1 for o in outcomes if o.reconciled)
        with self.sessions() as session:
            skipped = (
                len(
                    session.scalars(
                        select(DeliveryRow.id).where(
                            DeliveryRow.alert_id == alert_id,
                            DeliveryRow.channel == name,
                            DeliveryRow.state == DeliveryState.SENT,
                        )
                    ).all()
                )
                - sent
            )
        return FanOutReport(alert_id, name, sent, failed, reconciled, max(skipped, 0))

    def _record(self, outcomes: list[_Outcome]) -> None:
        now = self.now()
        with self.sessions() as session:
            begin_write(session)
            ok = [o for o in outcomes if o.result is not None]
            if ok:
                session.execute(
                    update(DeliveryRow),
                    [
                        {
                            "id": o.row_id,
                            "state": DeliveryState.SENT,
                            "provider_id": o.result.provider_id if o.result else None,
                            "last_error": None,
                            "updated_at": now,
                        }
                        for o in ok
                    ],
                )
            bad = [o for o in outcomes if o.result is None]
            if bad:
                session.execute(
                    update(DeliveryRow),
                    [
                        {
                            "id": o.row_id,
                            "state": DeliveryState.FAILED,
                            "last_error": (o.error or "")[:2000],
                            "updated_at": now,
                        }
                        for o in bad
                    ],
                )
            apply_stored_receipts(session, [o.result.provider_id for o in ok if o.result])
            session.commit()
