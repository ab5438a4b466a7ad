"""Centre-to-centre exchange in the console: EIDO routes, the partners' WebSocket, the links.

The HTTP routes (:mod:`exchange.api`) are for signed-in users, by role
(:data:`console.roles.ROUTE_ROLES`). ``/api/exchange/ws`` is for partner centres only: it is on
the guard's public list because a partner is not a console user; the endpoint itself admits
only a configured partner's token (deny by default) and refuses anything else with a reason.
Calls go out through the console's publisher, so an imported EIDO takes the same intake path
as any call. The partner clients and the request watcher run for the console's lifetime.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from sqlalchemy import Engine

from console.live import ChangeFeed
from exchange.api import create_router
from exchange.link import PartnerClient, bearer, partner_for, serve_partner
from exchange.link_store import Sessions
from exchange.requests import RequestDesk
from exchange.service import ExchangeService, schema_of
from goldentime.broker.publisher import Publisher, publish_record
from goldentime.clock import Clock
from goldentime.contracts import Record
from goldentime.settings import Settings
from goldentime.topics import TopicSpec

log = logging.getLogger(__name__)
PARTNER_SOCKET = "/api/exchange/ws"


class Exchange:
    """What the console keeps of the exchange: the service, the desk, the partner links."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessions: Sessions,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        async def publish(topic: TopicSpec, record: Record, key: str) -> None:
            await publish_record(publisher, topic, record, key=key)

        self.service = ExchangeService(
            settings=settings,
            sessions=sessions,
            publish=publish,
            clock=clock,
            schema=schema_of(settings),
        )
        self.desk = RequestDesk(
            service=self.service,
            sessions=sessions,
            clock=clock,
            partners=settings.exchange.partners,
        )
        self.clients = [
            PartnerClient(p, service=self.service, desk=self.desk, sessions=sessions, clock=clock)
            for p in settings.exchange.partners
            if p.url is not None
        ]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(self.desk.watch(), name="exchange-requests")]
        tasks += [
            asyncio.create_task(c.run(), name=f"exchange-{c.partner.id}") for c in self.clients
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def mount_exchange(
    app: FastAPI,
    *,
    settings: Settings,
    engine: Engine,
    publisher: Publisher,
    clock: Clock,
    feed: ChangeFeed,
) -> Exchange:
    sessions = Sessions.of(engine)
    exchange = Exchange(settings=settings, sessions=sessions, publisher=publisher, clock=clock)
    links = {c.partner.id: c for c in exchange.clients}

    def connected(partner_id: str) -> bool:
        link = links.get(partner_id)
        return link is not None and link.connected.is_set()

    app.include_router(
        create_router(exchange.service, exchange.desk, connected=connected), tags=["exchange"]
    )

    @app.websocket(PARTNER_SOCKET)
    async def partner_socket(websocket: WebSocket) -> None:
        partner = partner_for(
            bearer(websocket.headers.get("authorization")), settings.exchange.partners
        )
        if partner is None:
            client = websocket.client.host if websocket.client else "?"
            log.warning("exchange: refused a connection from %s: unknown or missing token", client)
            await websocket.accept()  # so the close can carry the reason
            await websocket.close(code=1008, reason="unknown or missing partner token")
            return
        await websocket.accept()
        log.info("exchange: partner %s connected", partner.id)
        try:
            await serve_partner(
                partner,
                receive=websocket.receive_text,
                send=websocket.send_text,
                service=exchange.service,
                desk=exchange.desk,
                feed=feed,
                sessions=sessions,
                clock=clock,
            )
        except WebSocketDisconnect:
            log.info("exchange: partner %s disconnected", partner.id)
        except Exception:
            # the unacknowledged message comes again when the partner reconnects
            log.exception("exchange: link with partner %s failed; closing it", partner.id)
            with contextlib.suppress(Exception):
                await websocket.close(code=1011, reason="internal error; reconnect")

    return exchange
