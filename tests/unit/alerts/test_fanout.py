"""Fan-out bookkeeping with an in-memory provider: claimed before sent, batches recorded,
a crash in a later batch resumes with zero double sends, failures recorded per recipient."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.alert_store import DeliveryRow, DeliveryState, create_tables
from alerts.channels.base import OutboundMessage, SendResult
from alerts.errors import ChannelError
from alerts.fanout import FanOut, plan
from alerts.geotarget import Recipient
from goldentime.db import make_engine, session_factory

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
BODIES = {"ko": "종로구 화재, 창문을 닫으세요.", "en": "Fire in Jongno-gu: close windows."}


class SimulatedCrash(Exception):
    """The process dies right after the provider accepted a message."""


class MemoryProvider:
    """A provider that remembers what it accepted; checks each row was claimed first."""

    name = "sms"
    sandbox = True

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        crash_at: int | None = None,
        refuse: frozenset[str] = frozenset(),
    ) -> None:
        self.sessions = sessions
        self.crash_at = crash_at
        self.refuse = refuse
        self.accepted: dict[str, list[str]] = {}
        self.unclaimed_sends: list[str] = []
        self.calls = 0
        self._lock = threading.Lock()

    def send(self, message: OutboundMessage) -> SendResult:
        with self.sessions() as session:
            state = session.scalar(
                select(DeliveryRow.state).where(DeliveryRow.idempotency_key == message.key)
            )
        if message.to in self.refuse:
            raise ChannelError(f"provider refused {message.to}")
        with self._lock:
            if state != DeliveryState.IN_FLIGHT:
                self.unclaimed_sends.append(message.to)
            self.calls += 1
            sid = f"SM{self.calls:06d}"
            self.accepted.setdefault(message.to, []).append(message.body)
            crash = self.calls == self.crash_at
        if crash:
            raise SimulatedCrash("killed after the provider accepted the message")
        return SendResult(provider_id=sid, status="queued")

    def find_sent(self, message: OutboundMessage) -> SendResult | None:
        if message.body in self.accepted.get(message.to, []):
            return SendResult(provider_id=f"SM-found-{message.to}", status="queued")
        return None


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'fanout.db'}")
    create_tables(engine)
    return session_factory(engine)


def _plan(sessions: sessionmaker[Session], n: int) -> list[Recipient]:
    recipients = [Recipient(f"+8210{i:08d}", "en" if i % 4 == 0 else "ko") for i in range(n)]
    plan(sessions, alert_id="A1", channel="sms", recipients=recipients, now=NOW)
    return recipients


def _states(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as session:
        rows = session.execute(select(DeliveryRow.recipient, DeliveryRow.state)).all()
    return {r.recipient: r.state for r in rows}


def test_every_message_is_claimed_before_it_is_sent_and_recorded(
    sessions: sessionmaker[Session],
) -> None:
    recipients = _plan(sessions, 23)
    provider = MemoryProvider(sessions)
    fan = FanOut(sessions, channel=provider, now=lambda: NOW, workers=3, batch_size=5)
    report = fan.run(alert_id="A1", bodies=BODIES, validity_s=600)
    assert (report.sent, report.failed, report.reconciled) == (23, 0, 0)
    assert provider.unclaimed_sends == []
    assert {to: len(bodies) for to, bodies in provider.accepted.items()} == {
        r.phone: 1 for r in recipients
    }
    assert provider.accepted["+821000000000"] == [BODIES["en"]]
    assert provider.accepted["+821000000001"] == [BODIES["ko"]]
    with sessions() as session:
        rows = session.execute(select(DeliveryRow.state, DeliveryRow.provider_id)).all()
    assert {r.state for r in rows} == {DeliveryState.SENT}
    assert len({r.provider_id for r in rows}) == 23
    again = fan.run(alert_id="A1", bodies=BODIES, validity_s=600)
    assert (again.sent, again.skipped) == (0, 23)


def test_crash_in_a_later_batch_resumes_without_double_sends(
    sessions: sessionmaker[Session],
) -> None:
    recipients = _plan(sessions, 12)
    crashing = MemoryProvider(sessions, crash_at=6)
    fan = FanOut(sessions, channel=crashing, now=lambda: NOW, workers=1, batch_size=4)
    with pytest.raises(SimulatedCrash):
        fan.run(alert_id="A1", bodies=BODIES, validity_s=600)
    assert crashing.calls == 6  # nothing more is sent once a thread crashed
    states = _states(sessions)
    phones = [r.phone for r in recipients]
    assert [states[p] for p in phones[:4]] == [DeliveryState.SENT] * 4  # recorded meanwhile
    # the crashed batch and the next one, claimed while it was sent; nothing else
    assert [states[p] for p in phones[4:]] == [DeliveryState.IN_FLIGHT] * 8

    resumed = MemoryProvider(sessions)
    resumed.accepted = crashing.accepted  # the same provider, after the restart
    report = FanOut(sessions, channel=resumed, now=lambda: NOW, workers=2, batch_size=4).run(
        alert_id="A1", bodies=BODIES, validity_s=600
    )
    assert report.reconciled == 2  # messages 5 and 6 were accepted before the crash
    assert report.sent == 8 and report.skipped == 4
    assert {to: len(b) for to, b in resumed.accepted.items()} == {p: 1 for p in phones}
    assert set(_states(sessions).values()) == {DeliveryState.SENT}


def test_refused_messages_are_recorded_as_failed_with_the_reason(
    sessions: sessionmaker[Session],
) -> None:
    _plan(sessions, 6)
    provider = MemoryProvider(sessions, refuse=frozenset({"+821000000002"}))
    report = FanOut(sessions, channel=provider, now=lambda: NOW, workers=2, batch_size=4).run(
        alert_id="A1", bodies=BODIES, validity_s=600
    )
    assert (report.sent, report.failed) == (5, 1)
    with sessions() as session:
        failed = session.execute(
            select(DeliveryRow.recipient, DeliveryRow.last_error).where(
                DeliveryRow.state == DeliveryState.FAILED
            )
        ).all()
    assert [(r.recipient, r.last_error) for r in failed] == [
        ("+821000000002", "provider refused +821000000002")
    ]


def test_fanout_options_are_validated(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FanOut(sessions, channel=MemoryProvider(sessions), now=lambda: NOW, batch_size=0)
    with pytest.raises(ChannelError, match="Korean"):
        FanOut(sessions, channel=MemoryProvider(sessions), now=lambda: NOW).run(
            alert_id="A1", bodies={"en": "x"}, validity_s=600
        )
