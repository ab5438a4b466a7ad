"""Delivery receipts from Twilio status callbacks: verified, deduplicated, order-tolerant.

A callback is accepted only if its ``X-Twilio-Signature`` matches (HMAC-SHA1 of the URL and
sorted form parameters with the account's auth token). Each distinct (message, status) is
stored once; a delivery's receipt only moves forward (``queued`` < ``sending`` < ``sent`` <
``delivered``/``undelivered``/``failed``), so a late ``sent`` never overwrites ``delivered``.
A callback that arrives before the fan-out recorded the message id is kept and applied when
the id is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from alerts.alert_store import DeliveryRow, ReceiptEventRow
from alerts.errors import WebhookRejectedError

STATUS_RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "read": 6,
}


@dataclass(frozen=True, slots=True)
class ReceiptOutcome:
    provider_id: str
    status: str
    duplicate: bool
    applied: bool


def verify_signature(
    *, auth_token: str, url: str, params: dict[str, str], signature: str | None
) -> None:
    """Raise WebhookRejectedError unless ``signature`` is Twilio's signature of url+params."""
    if not signature:
        raise WebhookRejectedError("missing X-Twilio-Signature header")
    if not RequestValidator(auth_token).validate(url, params, signature):
        raise WebhookRejectedError(f"X-Twilio-Signature does not match the request to {url}")


def _apply(session: Session, provider_id: str, status: str, at: datetime) -> bool:
    row = session.scalars(select(DeliveryRow).where(DeliveryRow.provider_id == provider_id)).first()
    if row is None:
        return False
    rank = STATUS_RANK.get(status, 0)
    if rank > row.receipt_rank:
        row.receipt_status = status
        row.receipt_rank = rank
        row.receipt_at = at
    return True


def record_status(session: Session, *, params: dict[str, str], at: datetime) -> ReceiptOutcome:
    """Store one verified callback and apply it; duplicates change nothing."""
    provider_id = params.get("MessageSid") or params.get("SmsSid") or ""
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    if not provider_id or status not in STATUS_RANK:
        raise WebhookRejectedError(f"callback lacks a MessageSid or a known status ({status!r})")
    try:
        with session.begin_nested():
            session.add(
                ReceiptEventRow(
                    provider_id=provider_id,
                    status=status,
                    error_code=params.get("ErrorCode"),
                    received_at=at,
                )
            )
    except IntegrityError:
        return ReceiptOutcome(provider_id, status, duplicate=True, applied=False)
    applied = _apply(session, provider_id, status, at)
    return ReceiptOutcome(provider_id, status, duplicate=False, applied=applied)


def apply_stored_receipts(session: Session, provider_ids: Iterable[str]) -> None:
    """Apply callbacks that arrived before their message id was recorded."""
    ids = list(provider_ids)
    if not ids:
        return
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        events = session.execute(
            select(
                ReceiptEventRow.provider_id, ReceiptEventRow.status, ReceiptEventRow.received_at
            ).where(ReceiptEventRow.provider_id.in_(chunk))
        ).all()
        if events:
            session.flush()
            for event in events:
                _apply(session, event.provider_id, event.status, event.received_at)
