"""End to end: draft → second-person approval → SMS (real twilio client → loopback fake),
Mastodon, Atom feed; crash-and-resume with zero double sends; replayed/forged callbacks;
exercises never reaching live recipients."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from alerts.alert_store import DeliveryRow, ReceiptEventRow
from alerts.capvalidate import validate_document
from alerts.channels.base import OutboundMessage, SendResult
from alerts.channels.twilio_sms import TwilioSmsChannel
from alerts.compose import parse_request
from alerts.fakes.twilio_api import CallbackPlan
from alerts.service import AlertService, ChannelSet
from goldentime.contracts.alerts import AlertDelivery
from goldentime.contracts.core import decode, encode

pytestmark = pytest.mark.integration

JONGNO_LIVE = 8  # 6 ko + 1 en (two locations, once) + 1 exercise participant; opted-out excluded

DRAFT = {
    "template": "fire_smoke",
    "headline_ko": "종로구 대형 화재로 연기 확산",
    "headline_en": "Smoke spreading from a large fire in Jongno-gu",
    "gu": ["Jongno-gu"],
}


def _client(world: Any, user: str) -> httpx.Client:
    return httpx.Client(base_url=world.base_url, headers={"X-GoldenTime-User": user}, timeout=30)


def _publish(world: Any, body: dict[str, Any] | None = None) -> str:
    with _client(world, "alice") as alice:
        created = alice.post("/api/alerts", json=body or DRAFT)
        assert created.status_code == 201, created.text
    alert_id: str = created.json()["id"]
    with _client(world, "bob") as bob:
        approved = bob.post(f"/api/alerts/{alert_id}/approve")
        assert approved.status_code == 200, approved.text
    world.service.deliver(alert_id)  # waits for the background fan-out (same per-alert lock)
    return alert_id


def test_two_person_rule_then_sms_social_feed_and_receipts(world: Any) -> None:
    with _client(world, "alice") as alice:
        created = alice.post("/api/alerts", json=DRAFT)
        assert created.status_code == 201, created.text
        alert_id = created.json()["id"]
        preview = created.json()["preview"]
        assert preview["class"] == "긴급재난" and preview["recipients"] == JONGNO_LIVE
        assert preview["sms"]["ko"]["encoding"] == "UCS-2"
        own = alice.post(f"/api/alerts/{alert_id}/approve")
        assert own.status_code == 409 and "two-person" in own.text
        # Same person with another spelling of the name is still the same person.
        with _client(world, "ALICE") as alias:
            assert alias.post(f"/api/alerts/{alert_id}/approve").status_code == 409
    assert world.twilio.messages() == []
    with _client(world, "bob") as bob:
        approved = bob.post(f"/api/alerts/{alert_id}/approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["approved_by"] == "bob"
    world.service.deliver(alert_id)  # waits for the background fan-out
    counts = world.twilio.count_by_recipient()
    assert len(counts) == JONGNO_LIVE and set(counts.values()) == {1}
    assert "+8210000040000" not in counts  # opted out
    assert "+8210000020000" not in counts  # lives in Gangnam only
    english = [m for m in world.twilio.messages() if m.to == "+15551230001"]
    assert english[0].body.startswith("Smoke spreading")
    assert all(m.validity_period and m.validity_period <= 7200 for m in world.twilio.messages())

    posts = world.mastodon.statuses()
    assert len(posts) == 2 and all(f"/alerts/{alert_id}" in p["text"] for p in posts)

    with httpx.Client(base_url=world.base_url) as public:
        feed = public.get("/alerts/feed.atom")
        assert feed.status_code == 200 and f"/alerts/{alert_id}.xml" in feed.text
        xml = public.get(f"/alerts/{alert_id}.xml")
        assert xml.headers["content-type"].startswith("application/cap+xml")
        report = validate_document(xml.content)
        assert report.publishable, report.schema_errors + report.profile_errors
        assert report.alert is not None and [i.language for i in report.alert.infos] == [
            "ko-KR",
            "en-US",
        ]
        listed = public.get("/alerts/public").json()
        assert [a["id"] for a in listed] == [alert_id] and listed[0]["en"]["headline"]

    world.twilio.wait_callbacks()
    assert world.twilio.callback_errors == []
    with world.sessions() as session:
        receipts = session.scalars(
            select(DeliveryRow.receipt_status).where(DeliveryRow.alert_id == alert_id)
        ).all()
    assert receipts == ["delivered"] * JONGNO_LIVE
    kinds = [type(r).__name__ for r in world.records]
    assert kinds.count("AlertRequest") == 2  # drafted, published
    deliveries = [r for r in world.records if isinstance(r, AlertDelivery)]
    # Receipts arriving before the fan-out recorded the message id are applied later without
    # an event, so at most one event per (message, status).
    assert 0 < len(deliveries) <= 2 * JONGNO_LIVE
    assert len({d.id for d in deliveries}) == len(deliveries)
    assert all("*" in d.recipient_masked and len(d.recipient_masked) > 8 for d in deliveries)
    assert all(decode(AlertDelivery, encode(d)) == d for d in deliveries)


class SimulatedCrash(Exception):
    """The process dies right after the provider accepted a message."""


class CrashingChannel:
    """Wraps the real SMS channel and dies after the provider accepted message ``crash_at``."""

    name = "sms"
    sandbox = False

    def __init__(self, inner: TwilioSmsChannel, *, crash_at: int) -> None:
        self.inner = inner
        self.crash_at = crash_at
        self.calls = 0

    def send(self, message: OutboundMessage) -> SendResult:
        result = self.inner.send(message)
        self.calls += 1
        if self.calls == self.crash_at:
            raise SimulatedCrash("killed after the provider accepted the message")
        return result

    def find_sent(self, message: OutboundMessage) -> SendResult | None:
        return self.inner.find_sent(message)


def test_crash_mid_fanout_resumes_without_double_sends(world: Any) -> None:
    row = world.service.draft(parse_request(DRAFT), user="alice")
    world.service.approve(row.id, user="bob")
    live_sms = world.service.live.sms
    assert live_sms is not None
    crashing = AlertService(
        sessions=world.sessions,
        gazetteer=world.service.gazetteer,
        clock=world.clock,
        base_url=world.base_url,
        live=ChannelSet(sms=CrashingChannel(live_sms, crash_at=3)),
        fanout_workers=1,
    )
    with pytest.raises(SimulatedCrash):
        crashing.deliver(row.id)
    sent_before = len(world.twilio.messages())
    assert 0 < sent_before < JONGNO_LIVE + 1
    with world.sessions() as session:
        states = session.scalars(select(DeliveryRow.state).where(DeliveryRow.alert_id == row.id))
        assert set(states) == {"in_flight"}  # nothing recorded: the outcome died with the process

    summary = world.service.deliver(row.id)  # resume
    assert summary.sms is not None and summary.sms.reconciled == sent_before
    counts = world.twilio.count_by_recipient()
    assert len(counts) == JONGNO_LIVE and set(counts.values()) == {1}
    again = world.service.deliver(row.id)  # a second resume sends nothing either
    assert again.sms is not None and again.sms.sent == 0
    assert len(world.twilio.messages()) == JONGNO_LIVE


def test_retry_on_429_and_5xx_sends_each_once(world: Any) -> None:
    world.twilio.fail_next(429, 2)
    world.twilio.fail_next(503, 1)
    alert_id = _publish(world)
    counts = world.twilio.count_by_recipient()
    assert len(counts) == JONGNO_LIVE and set(counts.values()) == {1}
    assert world.service.delivery_counts(alert_id)["sent"] == JONGNO_LIVE


def test_replayed_out_of_order_and_forged_callbacks(world: Any) -> None:
    world.twilio.plan_callbacks(CallbackPlan(duplicate=True, reverse=True))
    alert_id = _publish(world)
    world.twilio.wait_callbacks()
    with world.sessions() as session:
        receipts = session.scalars(
            select(DeliveryRow.receipt_status).where(DeliveryRow.alert_id == alert_id)
        ).all()
        events = session.scalar(select(func.count()).select_from(ReceiptEventRow))
    # "delivered" came first, then a late "sent": the receipt never moves backwards.
    assert receipts == ["delivered"] * JONGNO_LIVE
    assert events == 2 * JONGNO_LIVE  # duplicates dropped

    message = world.twilio.messages()[0]
    params = {"MessageSid": message.sid, "MessageStatus": "delivered", "To": message.to}
    signature = RequestValidator(world.twilio.auth_token).compute_signature(
        world.callback_url, params
    )
    with httpx.Client() as client:
        replay = client.post(
            world.callback_url, data=params, headers={"X-Twilio-Signature": signature}
        )
        assert replay.status_code == 200 and replay.json()["duplicate"] is True
        forged_params = {**params, "MessageStatus": "failed"}
        forged = client.post(
            world.callback_url, data=forged_params, headers={"X-Twilio-Signature": signature}
        )
        assert forged.status_code == 403
        unsigned = client.post(world.callback_url, data=forged_params)
        assert unsigned.status_code == 403
    with world.sessions() as session:
        row = session.scalars(
            select(DeliveryRow).where(DeliveryRow.provider_id == message.sid)
        ).one()
        assert row.receipt_status == "delivered"


def test_exercise_never_reaches_live_recipients_or_public(world: Any) -> None:
    alert_id = _publish(world, {**DRAFT, "exercise": True})
    assert world.twilio.messages() == []
    assert world.mastodon.statuses() == []
    drill = world.twilio_sandbox.messages()
    assert [m.to for m in drill] == ["+8210000030000"]
    assert drill[0].body.startswith("[훈련상황]")
    with httpx.Client(base_url=world.base_url) as public:
        assert public.get(f"/alerts/{alert_id}.xml").status_code == 404
        assert alert_id not in public.get("/alerts/feed.atom").text
        assert public.get("/alerts/public").json() == []
    xml = world.service.get(alert_id).cap_xml
    assert "<status>Exercise</status>" in xml


def test_cancel_reaches_the_same_people_and_references_the_original(world: Any) -> None:
    alert_id = _publish(world)
    original_reference = world.service.alert(alert_id).reference
    with _client(world, "carol") as carol:
        cancelled = carol.post(f"/api/alerts/{alert_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text
    cancel_id = cancelled.json()["id"]
    world.service.deliver(cancel_id)
    cancel = world.service.alert(cancel_id)
    assert cancel.msg_type.value == "Cancel" and cancel.references == (original_reference,)
    counts = world.twilio.count_by_recipient()
    assert len(counts) == JONGNO_LIVE and set(counts.values()) == {2}
    assert any("취소" in m.body for m in world.twilio.messages())
    with httpx.Client(base_url=world.base_url) as public:
        assert public.get("/alerts/public").json() == []
        assert f"/alerts/{cancel_id}.xml" in public.get("/alerts/feed.atom").text


def test_duplicate_within_24h_needs_confirmation(world: Any) -> None:
    _publish(world)
    with _client(world, "alice") as alice:
        again = alice.post("/api/alerts", json={**DRAFT, "gu": ["종로구", "중구"]})
        assert again.status_code == 409 and "24 h" in again.text
        confirmed = alice.post("/api/alerts", json={**DRAFT, "confirm_duplicate": True})
        assert confirmed.status_code == 201
        elsewhere = alice.post("/api/alerts", json={**DRAFT, "gu": ["Gangnam-gu"]})
        assert elsewhere.status_code == 201
    world.clock.advance(25 * 3600)
    with _client(world, "alice") as alice:
        assert alice.post("/api/alerts", json=DRAFT).status_code == 201


def test_bad_input_is_refused_and_nothing_is_sent(world: Any) -> None:
    with _client(world, "alice") as alice:
        unknown = alice.post("/api/alerts", json={**DRAFT, "gu": ["Atlantis-gu"]})
        assert unknown.status_code == 422 and "Atlantis" in unknown.text
        evacuate = {**DRAFT, "template": "evacuation", "headline_ko": "가" * 80}
        oversize = alice.post("/api/alerts", json=evacuate)
        assert oversize.status_code == 422 and "90" in oversize.text
        who = alice.post("/api/alerts", json={**DRAFT, "approved_by": "bob"})
        assert who.status_code == 422  # the body never names who acts
        assert alice.post("/api/alerts/nope/approve").status_code == 404
    assert world.twilio.messages() == [] and world.mastodon.statuses() == []
