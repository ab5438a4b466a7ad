"""Fixtures: a SQLite database, the loopback Twilio and Mastodon fakes, the alerts router
served by a real uvicorn on a free port (so the fake's signed callbacks reach it)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from alerts.alert_store import create_tables
from alerts.api import create_router
from alerts.areas import load_gazetteer
from alerts.channels.base import RetryPolicy
from alerts.channels.social import MastodonChannel, mastodon_client
from alerts.channels.twilio_sms import TwilioSmsChannel, twilio_client
from alerts.fakes.mastodon_api import FakeMastodonApi
from alerts.fakes.twilio_api import FakeTwilioApi
from alerts.geotarget import add_subscriber
from alerts.service import AlertService, ChannelSet
from goldentime.clock import ManualClock
from goldentime.contracts.core import Record
from goldentime.db import make_engine, session_factory

JONGNO = (37.5735, 126.9790)  # inside 종로구
GANGNAM = (37.4979, 127.0276)  # inside 강남구


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AlertsWorld:
    service: AlertService
    sessions: sessionmaker[Session]
    twilio: FakeTwilioApi
    twilio_sandbox: FakeTwilioApi
    mastodon: FakeMastodonApi
    clock: ManualClock
    base_url: str
    callback_url: str
    records: list[Record]


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'alerts.db'}")
    create_tables(engine)
    return session_factory(engine)


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> Iterator[AlertsWorld]:
    twilio = FakeTwilioApi().start()
    sandbox = FakeTwilioApi(auth_token="sandbox-token").start()
    mastodon = FakeMastodonApi(limit=500).start()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    callback_url = f"{base_url}/hooks/twilio/status"
    clock = ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    records: list[Record] = []

    def sms(fake: FakeTwilioApi, *, is_sandbox: bool) -> TwilioSmsChannel:
        return TwilioSmsChannel(
            client_factory=lambda: twilio_client(
                account_sid=fake.account_sid, auth_token=fake.auth_token, base_url=fake.base_url
            ),
            sender="+8215881190",
            status_callback_url=callback_url if not is_sandbox else None,
            rate_per_s=None,
            retry=RetryPolicy(attempts=4, base_delay_s=0.0),
            sandbox=is_sandbox,
            sleep=lambda _s: None,
        )

    def social(*, is_sandbox: bool) -> MastodonChannel:
        return MastodonChannel(
            client_factory=lambda: mastodon_client(
                base_url=mastodon.base_url, access_token="fake-token"
            ),
            sandbox=is_sandbox,
        )

    service = AlertService(
        sessions=sessions,
        gazetteer=load_gazetteer(),
        clock=clock,
        base_url=base_url,
        live=ChannelSet(sms=sms(twilio, is_sandbox=False), social=[social(is_sandbox=False)]),
        sandbox=ChannelSet(sms=sms(sandbox, is_sandbox=True), social=[]),
        fanout_workers=2,
        sink=records.append,
    )
    app = FastAPI()
    app.include_router(
        create_router(
            service, twilio_auth_token=twilio.auth_token, status_callback_url=callback_url
        )
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    with sessions() as session:
        for i in range(6):
            add_subscriber(session, phone=f"+8210000010{i:02d}", language="ko", locations=[JONGNO])
        add_subscriber(session, phone="+15551230001", language="en", locations=[JONGNO, GANGNAM])
        add_subscriber(session, phone="+8210000020000", language="ko", locations=[GANGNAM])
        drill = add_subscriber(
            session,
            phone="+8210000030000",
            language="ko",
            locations=[JONGNO],
            exercise_participant=True,
        )
        opted = add_subscriber(session, phone="+8210000040000", language="ko", locations=[JONGNO])
        opted.opted_out = True
        assert drill.id
        session.commit()
    yield AlertsWorld(
        service, sessions, twilio, sandbox, mastodon, clock, base_url, callback_url, records
    )
    server.should_exit = True
    thread.join(timeout=10)
    for fake in (twilio, sandbox, mastodon):
        fake.stop()
