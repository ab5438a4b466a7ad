"""Joint-response and mutual-aid requests between centres (STA-024 requestForService).

Received: the request's EIDO is taken in as a call (the partner's reference in its
description and in ``exchange_requests``); when a unit is dispatched to the incident it became,
the answer goes back accepted (200) with the incident's EIDO (units, status, ETA); a
dispatcher may decline instead (603, with the reason). Sent: a dispatcher asks a partner for
units for an incident here; the partner's answer is kept with the request.

Every outgoing message goes through the outbox (``exchange_outbox``) and stays there until
the partner acknowledged it, so neither side's restart loses one.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import queries
from exchange.export import export_incident
from exchange.link_store import OutboxRow, RequestRow, Sessions
from exchange.service import ExchangeService
from goldentime.clock import Clock
from goldentime.settings import ExchangePartner

log = logging.getLogger(__name__)
WATCH_INTERVAL_S = 0.25


def enqueue(
    session: Session,
    *,
    partner_id: str,
    message_id: str,
    body: dict[str, Any],
    now: datetime,
    incident_id: str | None,
) -> None:
    """Put a message for a partner in the outbox once (by id)."""
    if session.scalar(select(OutboxRow.seq).where(OutboxRow.id == message_id)) is None:
        session.add(
            OutboxRow(
                id=message_id,
                partner_id=partner_id,
                incident_id=incident_id,
                created_at=now,
                body=body,
            )
        )


class RequestDesk:
    def __init__(
        self,
        *,
        service: ExchangeService,
        sessions: Sessions,
        clock: Clock,
        partners: list[ExchangePartner],
    ) -> None:
        self._service = service
        self._db = sessions
        self._clock = clock
        self._partners = {p.id: p for p in partners}

    # --- sent --------------------------------------------------------------------------------
    async def ask(
        self, incident_id: str, *, partner_id: str, units: int, note: str
    ) -> dict[str, Any]:
        partner = self._partners.get(partner_id)
        if partner is None or partner.url is None:
            raise ValueError(f"partner_id: {partner_id} is not a partner this centre can reach")
        document = await asyncio.to_thread(self._service.export, incident_id)
        now = self._clock.now()
        digest = hashlib.sha256(f"{incident_id}\n{partner_id}\n{now.isoformat()}".encode())
        request_id = f"ma-{self._service.centre.agency_id}-{digest.hexdigest()[:12]}"
        body = {
            "requestId": request_id,
            "messageId": request_id,
            "eido": document,
            "unitsRequested": units,
            "note": note,
        }

        def store() -> None:
            with self._db.writes.begin() as session:
                session.add(
                    RequestRow(
                        id=f"sent:{partner_id}:{request_id}",
                        direction="sent",
                        partner_id=partner_id,
                        request_id=request_id,
                        kind="mutual_aid",
                        incident_id=incident_id,
                        status="pending",
                        created_at=now,
                        body={"unitsRequested": units, "note": note},
                    )
                )
                enqueue(
                    session,
                    partner_id=partner_id,
                    message_id=request_id,
                    body={"requestForService": body},
                    now=now,
                    incident_id=incident_id,
                )

        await asyncio.to_thread(store)
        return {"request_id": request_id, "partner_id": partner_id, "status": "pending"}

    def answered(self, partner_id: str, body: dict[str, Any]) -> str | None:
        """A partner's answer to one of our requests (idempotent); our incident id."""
        with self._db.writes.begin() as session:
            row = session.get(RequestRow, f"sent:{partner_id}:{body['requestId']}")
            if row is None:
                log.warning("answer from %s to unknown request %s", partner_id, body["requestId"])
                return None
            code = int(body["responseCode"])
            if code < 200:
                return row.incident_id  # provisional (queued): the final answer follows
            row.status = "accepted" if code == 200 else "declined"
            row.response_code, row.response_text = code, str(body["responseText"])[:2000]
            row.answered_at = self._clock.now()
            eido = body.get("eido")
            resources = eido.get("emergencyResourceComponent", []) if isinstance(eido, dict) else []
            row.body = {**row.body, "resources": resources}
            return row.incident_id

    # --- received ----------------------------------------------------------------------------
    async def received(self, partner: ExchangePartner, body: dict[str, Any]) -> str:
        """Take a partner's request for service in; returns the incident id here."""
        taken = await self._service.take(
            body["eido"], partner_id=partner.id, partner_name=partner.name
        )
        now = self._clock.now()

        def store() -> None:
            with self._db.writes.begin() as session:
                key = f"received:{partner.id}:{body['requestId']}"
                if session.get(RequestRow, key) is None:
                    session.add(
                        RequestRow(
                            id=key,
                            direction="received",
                            partner_id=partner.id,
                            request_id=str(body["requestId"]),
                            kind="service",
                            incident_id=taken.incident_id,
                            call_id=taken.call_id,
                            status="pending",
                            created_at=now,
                            body={k: v for k, v in body.items() if k != "eido"},
                        )
                    )

        await asyncio.to_thread(store)
        return taken.incident_id

    def decline(self, request_key: str, *, reason: str) -> None:
        with self._db.writes.begin() as session:
            row = session.get(RequestRow, request_key)
            if row is None or row.direction != "received" or row.status != "pending":
                raise ValueError(f"request: {request_key} is not a pending received request")
            self._answer(session, row, code=603, text=f"declined: {reason}", eido=None)

    def _answer(
        self,
        session: Session,
        row: RequestRow,
        *,
        code: int,
        text: str,
        eido: dict[str, Any] | None,
    ) -> None:
        now = self._clock.now()
        row.status = "accepted" if code == 200 else "declined"
        row.response_code, row.response_text, row.answered_at = code, text, now
        message_id = f"answer-{row.request_id}"
        body: dict[str, Any] = {
            "requestId": row.request_id,
            "responseCode": code,
            "responseText": text,
            "messageId": message_id,
        }
        if eido is not None:
            body["eido"] = eido
        enqueue(
            session,
            partner_id=row.partner_id,
            message_id=message_id,
            body={"response": body},
            now=now,
            incident_id=row.incident_id,
        )

    def answer_dispatched(self) -> int:
        """Accept every pending received request whose incident has units on it now.

        Reads (and exports) first, outside any write transaction; the write only records the
        answers still pending, so two console processes never answer one request twice.
        """
        ready: dict[str, tuple[str, dict[str, Any]]] = {}
        with self._db.reads() as session:
            pending = list(
                session.scalars(
                    select(RequestRow).where(
                        RequestRow.direction == "received", RequestRow.status == "pending"
                    )
                )
            )
            for row in pending:
                incident = (
                    queries.find_incident(session, row.incident_id) if row.incident_id else None
                )
                if incident is None:
                    continue
                target = incident.merged_into or incident.id
                names = queries.unit_names_on(session, target)
                if not names:
                    continue
                eido = export_incident(session, target, centre=self._service.centre)
                etas = [r["eta"] for r in eido.get("emergencyResourceComponent", []) if "eta" in r]
                text = f"accepted: {len(names)} unit(s) {', '.join(names)}"
                if etas:
                    text += f"; first ETA {min(etas)}"
                ready[row.id] = (text[:2000], eido)
        if not ready:
            return 0  # the common case: no write transaction at all
        done = 0
        with self._db.writes.begin() as session:
            for key, (text, eido) in ready.items():
                current = session.get(RequestRow, key)
                if current is not None and current.status == "pending":
                    self._answer(session, current, code=200, text=text, eido=eido)
                    done += 1
        return done

    async def watch(self) -> None:
        """Answer requests as their incidents get units, until cancelled."""
        while True:
            try:
                await asyncio.to_thread(self.answer_dispatched)
            except Exception:
                log.exception("answering requests failed; retrying")
            await asyncio.sleep(WATCH_INTERVAL_S)

    def list(self, *, incident_id: str | None = None) -> list[dict[str, Any]]:
        with self._db.reads() as session:
            query = select(RequestRow).order_by(RequestRow.created_at.desc()).limit(200)
            if incident_id is not None:
                query = query.where(RequestRow.incident_id == incident_id)
            return [
                {
                    "id": r.id,
                    "direction": r.direction,
                    "partner_id": r.partner_id,
                    "partner": self._partners[r.partner_id].name
                    if r.partner_id in self._partners
                    else r.partner_id,
                    "request_id": r.request_id,
                    "kind": r.kind,
                    "incident_id": r.incident_id,
                    "status": r.status,
                    "response_code": r.response_code,
                    "response_text": r.response_text,
                    "created_at": r.created_at.isoformat(),
                    "answered_at": r.answered_at.isoformat() if r.answered_at else None,
                    "resources": r.body.get("resources", []),
                }
                for r in session.scalars(query)
            ]
