"""Live exchange with partner centres over WebSocket (NENA-STA-024 subscribe/notify).

Server side (:func:`serve_partner`, the console's ``/api/exchange/ws``): a partner presents
its token (``Authorization: Bearer``); an unknown or missing token is refused (close 1008,
logged). It may subscribe to one incident (``requestSubType: single``, ``incidentId``) or to
all incidents of a kind (``new``, ``qualFilter`` ``type=<our type>`` or none for all), with
``since`` (an extension: the last ``lastUpdateTimeStamp`` it holds) to catch up after either
side restarted; every change of a matching incident, driven by the console's change feed,
goes out as an ``event`` with the incident's EIDO. Push messages (requestForService and
answers) are handled once by id and acknowledged.

Client side (:class:`PartnerClient`): connects to a partner's endpoint, subscribes as
configured (from its cursor), takes notified EIDOs in through the intake, acknowledges them,
and sends the outbox in order until each message is acknowledged; it reconnects with backoff
when either side goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

import websockets
from sqlalchemy import select

from dispatch import queries
from exchange.importer import EidoRefusedError
from exchange.link_store import CursorRow, InboxRow, OutboxRow, Sessions
from exchange.protocol import Message, RefusedError, ack, dumps, parse
from exchange.requests import RequestDesk
from exchange.service import ExchangeService
from goldentime.clock import Clock
from goldentime.retry import Backoff
from goldentime.settings import ExchangePartner

log = logging.getLogger(__name__)
RECONNECT_MIN_S = 0.2
RECONNECT_MAX_S = 2.0
OUTBOX_POLL_S = 0.1
CATCH_UP_LIMIT = 500

Send = Callable[[str], Awaitable[None]]


class Change(Protocol):
    kind: str  # "incident" (data: the incident record), "resync" (changes were dropped), ...
    data: dict[str, Any]


class ChangeSource(Protocol):
    """The console's change feed (console.live.ChangeFeed): what drives notifications."""

    def subscribe(self) -> asyncio.Queue[Any]: ...

    def unsubscribe(self, queue: asyncio.Queue[Any]) -> None: ...


def partner_for(token: str | None, partners: list[ExchangePartner]) -> ExchangePartner | None:
    """The partner presenting ``token`` (constant-time comparison), or None: deny by default."""
    if not token:
        return None
    found = None
    for partner in partners:
        if hmac.compare_digest(partner.token_in.get_secret_value().encode(), token.encode()):
            found = partner
    return found


def bearer(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


class Inbox:
    """Handle each partner message id once."""

    def __init__(self, sessions: Sessions, clock: Clock) -> None:
        self._db, self._clock = sessions, clock

    def seen(self, partner_id: str, message_id: str) -> bool:
        with self._db.reads() as session:
            return session.get(InboxRow, f"{partner_id}:{message_id}") is not None

    def mark(self, partner_id: str, message_id: str, kind: str) -> None:
        with self._db.writes.begin() as session:
            key = f"{partner_id}:{message_id}"
            if session.get(InboxRow, key) is None:
                session.add(
                    InboxRow(id=key, partner_id=partner_id, kind=kind, handled_at=self._clock.now())
                )


async def handle_push(
    message: Message,
    partner: ExchangePartner,
    *,
    service: ExchangeService,
    desk: RequestDesk,
    inbox: Inbox,
    send: Send,
) -> bool:
    """A push message (request or answer): handled once, acknowledged. False if not a push."""
    if message.kind not in {"requestForService", "response"}:
        return False
    body = message.body
    message_id = str(body["messageId"])
    if not await asyncio.to_thread(inbox.seen, partner.id, message_id):
        if message.kind == "requestForService":
            incident_id: str | None = await desk.received(partner, body)
            text = (
                f"공동대응 요청 수신 requestForService from {partner.name} "
                f"(request {body['requestId']}, units {body.get('unitsRequested', '-')}) "
                f"{body.get('note', '')}"
            )
            log.info("request %s from %s became %s", message_id, partner.id, incident_id)
        else:
            incident_id = await asyncio.to_thread(desk.answered, partner.id, body)
            text = (
                f"응답 수신 responseToRequest from {partner.name}: {body['responseCode']} "
                f"{body['responseText']} (request {body['requestId']})"
            )
        if incident_id is not None:
            await service.note(incident_id, text, partner_id=partner.id, key=f"in:{message_id}")
        await asyncio.to_thread(inbox.mark, partner.id, message_id, message.kind)
    await send(ack(message_id))
    return True


class Subscription:
    def __init__(self, subscription_id: str, *, incident_id: str | None, kind: str | None) -> None:
        self.id, self.incident_id, self.kind = subscription_id, incident_id, kind

    def matches(self, incident: dict[str, Any]) -> bool:
        if self.incident_id is not None:
            return bool(incident.get("id") == self.incident_id)
        return self.kind is None or incident.get("type") == self.kind


def _subscription(body: dict[str, Any]) -> Subscription:
    sub_type = body.get("requestSubType", "new")
    if body.get("requestType", "EIDO") != "EIDO":
        raise RefusedError("subscribe.requestType: only EIDO")
    if sub_type == "single":
        incident_id = body.get("incidentId")
        if not isinstance(incident_id, str) or not incident_id:
            raise RefusedError("subscribe.incidentId: required for requestSubType single")
        return Subscription(f"sub-{uuid.uuid4().hex[:16]}", incident_id=incident_id, kind=None)
    if sub_type != "new":
        raise RefusedError(f"subscribe.requestSubType: {sub_type!r} not supported (single, new)")
    if body.get("incidentId"):
        raise RefusedError("subscribe: a qualFilter and an incidentId cannot be combined")
    flt = body.get("qualFilter")
    kind = None
    if isinstance(flt, str) and flt.strip() not in {"", "*"}:
        if not flt.startswith("type="):
            raise RefusedError("subscribe.qualFilter: only type=<incident type> or *")
        kind = flt[5:].strip()
    return Subscription(f"sub-{uuid.uuid4().hex[:16]}", incident_id=None, kind=kind)


async def serve_partner(
    partner: ExchangePartner,
    *,
    receive: Callable[[], Awaitable[str]],
    send: Send,
    service: ExchangeService,
    desk: RequestDesk,
    feed: ChangeSource,
    sessions: Sessions,
    clock: Clock,
) -> None:
    """One authenticated partner connection, until it closes."""
    link = _PartnerLink(
        partner, send=send, service=service, desk=desk, sessions=sessions, clock=clock
    )
    queue = feed.subscribe()
    pumping = asyncio.create_task(link.pump(queue))
    try:
        while True:
            await link.on_message(await receive())
    finally:
        pumping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pumping
        feed.unsubscribe(queue)


class _PartnerLink:
    """The state of one partner connection: its subscriptions and the send lock."""

    def __init__(
        self,
        partner: ExchangePartner,
        *,
        send: Send,
        service: ExchangeService,
        desk: RequestDesk,
        sessions: Sessions,
        clock: Clock,
    ) -> None:
        self.partner = partner
        self.service = service
        self.desk = desk
        self.sessions = sessions
        self.inbox = Inbox(sessions, clock)
        self.subscriptions: list[Subscription] = []
        self._send = send
        self._lock = asyncio.Lock()
        self.catching_up = asyncio.Lock()  # live changes wait while a new subscription catches up

    async def send_locked(self, text: str) -> None:
        async with self._lock:
            await self._send(text)

    async def notify(self, sub: Subscription, incident_id: str) -> None:
        partner = self.partner
        try:
            eido = await asyncio.to_thread(self.service.export, incident_id)
        except Exception:
            log.exception("cannot export %s for %s", incident_id, partner.id)
            return
        transaction = f"tx-{uuid.uuid4().hex}"
        await self.send_locked(
            dumps(
                "event",
                {"subscriptionId": sub.id, "transactionId": transaction, "notification": [eido]},
            )
        )
        await self.service.note(
            incident_id,
            f"EIDO 통지 event to {partner.name} (subscription {sub.id})",
            partner_id=partner.id,
            key=f"out:{transaction}",
        )

    async def pump(self, queue: asyncio.Queue[Any]) -> None:
        while True:
            change: Change = await queue.get()
            if change.kind == "resync":  # the feed dropped changes for us: send current state
                async with self.catching_up:
                    for sub in list(self.subscriptions):
                        for incident_id in await asyncio.to_thread(
                            _catch_up, self.sessions, sub, None
                        ):
                            await self.notify(sub, incident_id)
                continue
            if change.kind != "incident":
                continue
            async with self.catching_up:
                for sub in list(self.subscriptions):
                    if sub.matches(change.data):
                        await self.notify(sub, str(change.data["id"]))

    async def on_message(self, raw: str) -> None:
        """One message from the partner; a refused one is answered with 400."""
        partner = self.partner
        try:
            message = parse(raw)
            if await handle_push(
                message,
                partner,
                service=self.service,
                desk=self.desk,
                inbox=self.inbox,
                send=self.send_locked,
            ):
                return
            await self.on_subscriber_message(message)
        except RefusedError as refused:
            log.warning("refused message from partner %s: %s", partner.id, refused)
            await self.send_locked(
                dumps(
                    "response",
                    {"requestId": "-", "statusCode": 400, "statusText": str(refused)},
                )
            )
        except EidoRefusedError as refused:
            # a well-formed push message whose EIDO cannot be taken: refused for good
            # (acknowledged with 400, so the sender stops re-sending it), nothing stored
            log.warning("refused message from partner %s: %s", partner.id, refused)
            await self.send_locked(ack(str(message.body["messageId"]), code=400, text=str(refused)))

    async def on_subscriber_message(self, message: Message) -> None:
        if message.kind == "subscribe":
            sub = _subscription(message.body)
            await self.send_locked(
                dumps(
                    "subscribeResponse",
                    {
                        "requestId": message.body["requestId"],
                        "subscriptionId": sub.id,
                        "statusCode": 200,
                        "statusText": "OK",
                    },
                )
            )
            async with self.catching_up:
                self.subscriptions.append(sub)
                for incident_id in await asyncio.to_thread(
                    _catch_up, self.sessions, sub, message.body.get("since")
                ):
                    await self.notify(sub, incident_id)
        elif message.kind == "unsubscribe":
            self.subscriptions[:] = [
                s for s in self.subscriptions if s.id != message.body["subscriptionId"]
            ]
            await self.send_locked(
                dumps(
                    "unsubscribeResponse",
                    {**message.body, "statusCode": 200, "statusText": "OK"},
                )
            )
        elif message.kind == "eventResponse":
            pass  # events are re-sent on catch-up; nothing to keep
        else:
            raise RefusedError(f"{message.kind}: not accepted from a subscriber")


def _catch_up(sessions: Sessions, sub: Subscription, since: Any) -> list[str]:
    with sessions.reads() as session:
        updated_after = None
        if isinstance(since, str):
            with contextlib.suppress(ValueError):
                updated_after = datetime.fromisoformat(since)
        return queries.incident_ids_by_update(
            session,
            limit=CATCH_UP_LIMIT,
            incident_id=sub.incident_id,
            kind=sub.kind,
            updated_after=updated_after,
            active_only=not isinstance(since, str),
        )


class PartnerClient:
    """Our connection to one partner's endpoint: subscriptions in, outbox out."""

    def __init__(
        self,
        partner: ExchangePartner,
        *,
        service: ExchangeService,
        desk: RequestDesk,
        sessions: Sessions,
        clock: Clock,
    ) -> None:
        self.partner = partner
        self._service, self._desk = service, desk
        self._db, self._clock = sessions, clock
        self._inbox = Inbox(sessions, clock)
        self.connected = asyncio.Event()

    async def run(self) -> None:
        backoff = Backoff(base_s=RECONNECT_MIN_S, cap_s=RECONNECT_MAX_S)
        while True:
            try:
                await self._session()
                backoff.reset()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.info("exchange link to %s down: %s", self.partner.id, err)
            self.connected.clear()
            await asyncio.sleep(backoff.next_delay())

    async def _session(self) -> None:
        assert self.partner.url is not None
        token = self.partner.token_out.get_secret_value() if self.partner.token_out else ""
        async with websockets.connect(
            self.partner.url,
            additional_headers={"Authorization": f"Bearer {token}"},
            max_size=8 * 1024 * 1024,
            open_timeout=5,
        ) as ws:
            self.connected.set()
            since = await asyncio.to_thread(self._cursor)
            for kind in self.partner.subscribe:
                body: dict[str, Any] = {
                    "requestId": f"req-{uuid.uuid4().hex[:12]}",
                    "requestType": "EIDO",
                    "requestSubType": "new",
                }
                if kind != "*":
                    body["qualFilter"] = f"type={kind}"
                if since:
                    body["since"] = since
                await ws.send(dumps("subscribe", body))
            sender = asyncio.create_task(self._send_outbox(ws))
            try:
                async for raw in ws:
                    await self._on_message(ws, raw)
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender

    async def _send_outbox(self, ws: Any) -> None:
        sent: set[str] = set()
        while True:
            for message_id, body in await asyncio.to_thread(self._pending):
                if message_id not in sent:
                    await ws.send(dumps(*next(iter(body.items()))))
                    sent.add(message_id)
            await asyncio.sleep(OUTBOX_POLL_S)

    def _pending(self) -> list[tuple[str, dict[str, Any]]]:
        with self._db.reads() as session:
            rows = session.execute(
                select(OutboxRow.id, OutboxRow.body)
                .where(OutboxRow.partner_id == self.partner.id, OutboxRow.acked_at.is_(None))
                .order_by(OutboxRow.seq)
            ).tuples()
            return [(i, dict(b)) for i, b in rows]

    def _acked(self, message_id: str) -> tuple[str | None, str] | None:
        """Mark an outbox message acknowledged; (incident id, what it was) the first time."""
        with self._db.writes.begin() as session:
            row = session.scalar(select(OutboxRow).where(OutboxRow.id == message_id))
            if row is None or row.acked_at is not None:
                return None
            row.acked_at = self._clock.now()
            kind, body = next(iter(row.body.items()))
            if kind == "response":
                what = f"응답 responseToRequest {body['responseCode']} {body['responseText']}"
            else:
                what = f"공동대응 요청 requestForService {body['requestId']}"
            return row.incident_id, what

    def _cursor(self) -> str:
        with self._db.reads() as session:
            row = session.get(CursorRow, self.partner.id)
            return row.last_update if row else ""

    def _advance(self, stamp: str) -> None:
        with self._db.writes.begin() as session:
            row = session.get(CursorRow, self.partner.id)
            if row is None:
                session.add(CursorRow(partner_id=self.partner.id, last_update=stamp))
            elif stamp > row.last_update:
                row.last_update = stamp

    async def _on_message(self, ws: Any, raw: str | bytes) -> None:
        try:
            message = parse(raw)
        except RefusedError as refused:
            log.warning("refused message from partner %s: %s", self.partner.id, refused)
            return
        if message.kind == "eventResponse":
            message_id = str(message.body["transactionId"])
            code, text = message.body["statusCode"], message.body["statusText"]
            if code != 200:
                log.warning("partner %s refused %s: %s %s", self.partner.id, message_id, code, text)
            acked = await asyncio.to_thread(self._acked, message_id)
            if acked is not None and acked[0] is not None:
                outcome = "acknowledged" if code == 200 else f"refused: {code} {text}"
                await self._service.note(
                    acked[0],
                    f"{acked[1]} sent to {self.partner.name}, {outcome}",
                    partner_id=self.partner.id,
                    key=f"out:{message_id}",
                )
        elif message.kind == "event":
            transaction = str(message.body["transactionId"])
            for eido in message.body["notification"]:
                try:
                    taken = await self._service.take(
                        eido, partner_id=self.partner.id, partner_name=self.partner.name
                    )
                    await self._service.note(
                        taken.incident_id,
                        f"EIDO 수신 event from {self.partner.name}: {eido.get('$id')} "
                        f"(updated {eido.get('lastUpdateTimeStamp')})",
                        partner_id=self.partner.id,
                        key=f"in:{transaction}:{eido.get('$id')}",
                    )
                except EidoRefusedError as err:
                    log.warning("notified EIDO from %s refused: %s", self.partner.id, err)
                    await ws.send(ack(transaction, code=400, text=str(err)[:200]))
                    return
                # anything else (broker, database) drops the link: the resubscription from
                # the cursor brings this EIDO again
                stamp = eido.get("lastUpdateTimeStamp") if isinstance(eido, dict) else None
                if isinstance(stamp, str):
                    await asyncio.to_thread(self._advance, stamp)
            await ws.send(ack(message.body["transactionId"]))
        elif message.kind == "subscribeResponse":
            log.info("subscribed to %s: %s", self.partner.id, message.body)
        elif message.kind in {"requestForService", "response"}:
            await handle_push(
                message,
                self.partner,
                service=self._service,
                desk=self._desk,
                inbox=self._inbox,
                send=ws.send,
            )
        else:
            log.info("from %s: %s", self.partner.id, message.kind)
