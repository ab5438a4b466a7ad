"""The console with public warnings mounted, served for real, channels on the loopback fakes.

Supervisor A drafts, B approves, the SMS goes through the real twilio client to the fake,
whose signed status callbacks come back through the console's (public) webhook; the feed
and the public page are public; a dispatcher may not draft; a forged callback is refused.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from gt_published import sent

from alerts.demo import demo_environment
from alerts.fakes.mastodon_api import FakeMastodonApi
from alerts.fakes.twilio_api import FakeTwilioApi
from alerts.runtime import alerts_config
from console.accounts import Accounts
from console.app import create_app
from console.auth import AuthConfig
from goldentime.broker.publisher import InMemoryPublisher
from goldentime.db import make_engine, session_factory, writer
from goldentime.procutil import free_port
from goldentime.settings import load_settings

pytestmark = pytest.mark.integration
PASSWORD = "alerts-it-pw"
DRAFT = {
    "template": "fire_smoke",
    "headline_ko": "종로구 화재 연기 확산",
    "headline_en": "Smoke spreading in Jongno-gu",
    "gu": ["종로구"],
}


@pytest.fixture
def console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    port = free_port("127.0.0.1")
    base = f"http://127.0.0.1:{port}"
    from alerts.demo import DEMO_MASTODON_TOKEN, DEMO_TWILIO_SID, DEMO_TWILIO_TOKEN

    twilio = FakeTwilioApi(account_sid=DEMO_TWILIO_SID, auth_token=DEMO_TWILIO_TOKEN).start()
    mastodon = FakeMastodonApi(token=DEMO_MASTODON_TOKEN).start()
    env = demo_environment(
        public_base_url=base,
        twilio_url=twilio.base_url,
        sandbox_url=twilio.base_url,  # unused: no exercise here
        mastodon_url=mastodon.base_url,
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # read by the settings model, as a console process does
    settings = load_settings(data={"dir": tmp_path})
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    recorder = InMemoryPublisher()
    app = create_app(
        settings,
        publisher=recorder,
        engine=engine,
        auth=AuthConfig(mode="required", secret_key="it-secret"),
        alerts_settings=alerts_config(settings),
    )
    accounts = Accounts(session_factory(writer(engine)))
    now = datetime.now(UTC)
    for name, role in (("sup.a", "supervisor"), ("sup.b", "supervisor"), ("disp", "dispatcher")):
        accounts.add_user(name, roles=[role], password=PASSWORD, now=now)  # type: ignore[list-item]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield {"base": base, "twilio": twilio, "mastodon": mastodon, "recorder": recorder}
    server.should_exit = True
    thread.join(timeout=10)
    twilio.stop()
    mastodon.stop()


def sign_in(base: str, user: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    form = client.get("/login").text
    token = form.split('name="token" value="')[1].split('"')[0]
    r = client.post("/login", data={"username": user, "password": PASSWORD, "token": token})
    assert r.status_code == 303, r.text
    client.headers["X-CSRF-Token"] = client.get("/api/me").json()["csrf_token"]
    return client


def wait_for(predicate: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_supervisors_publish_and_citizens_receive(console: dict[str, Any]) -> None:
    base, twilio = console["base"], console["twilio"]
    anonymous = httpx.Client(base_url=base, timeout=30)
    assert anonymous.get("/alerts/feed.atom").status_code == 200
    assert anonymous.post("/api/alerts", json=DRAFT).status_code == 401
    assert sign_in(base, "disp").post("/api/alerts", json=DRAFT).status_code == 403

    a, b = sign_in(base, "sup.a"), sign_in(base, "sup.b")
    preview = a.post("/api/alerts/preview", json=DRAFT)
    assert preview.status_code == 200, preview.text
    # The demo subscribers with a location in 종로구 (the drill participant gets live alerts too).
    in_jongno = {"+821090000001", "+821090000002", "+821090000004", "+15550100001", "+821090000009"}
    assert preview.json()["recipients"] == len(in_jongno)
    drafted = a.post("/api/alerts", json=DRAFT)
    assert drafted.status_code == 201, drafted.text
    alert_id = drafted.json()["id"]
    assert a.post(f"/api/alerts/{alert_id}/approve").status_code == 409  # two-person rule
    approved = b.post(f"/api/alerts/{alert_id}/approve")
    assert approved.status_code == 200 and approved.json()["approved_by"] == "sup.b"

    wait_for(lambda: len(twilio.messages()) == preview.json()["recipients"], "the SMS fan-out")
    phones = {m.to for m in twilio.messages()}
    assert phones == in_jongno
    assert all(m.body.startswith("종로구") or m.body.startswith("Smoke") for m in twilio.messages())
    twilio.wait_callbacks()
    wait_for(
        lambda: (
            b.get(f"/api/alerts/{alert_id}/deliveries").json().get("receipt:delivered")
            == len(phones)
        ),
        "signed delivery receipts through the public webhook",
    )
    assert any(
        alert_id in s["content"] or "/alerts/" in s["content"]
        for s in console["mastodon"].statuses()
    )

    feed = anonymous.get("/alerts/feed.atom").text
    assert f"/alerts/{alert_id}.xml" in feed
    page = anonymous.get("/alerts").text
    assert "종로구 화재 연기 확산" in page and "Smoke spreading in Jongno-gu" in page
    assert (
        anonymous.get(f"/alerts/{alert_id}.xml")
        .headers["content-type"]
        .startswith("application/cap+xml")
    )
    forged = anonymous.post(
        "/hooks/twilio/status",
        data={"MessageSid": "SMx", "MessageStatus": "delivered"},
        headers={"X-Twilio-Signature": "forged"},
    )
    assert forged.status_code == 403
    topics = {(topic, record.id) for topic, record, _key in sent(console["recorder"])}
    assert ("alert.requests", f"{alert_id}.published") in topics
    assert any(topic == "alert.deliveries" for topic, _ in topics)
