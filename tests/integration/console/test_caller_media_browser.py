"""In chromium with a fake camera: SMS link -> caller page -> live video and GPS in the panel.

The caller is a second browser context with camera and geolocation permissions and a set
position; Chromium's fake media device supplies the camera. The dispatcher's board shows the
video playing (readyState >= 2, currentTime advancing) and the position with its accuracy;
a second opening of the link is refused.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, BrowserType, Page, expect

from ops.cli import cli as cli_main
from ops.up import LocalSystem

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PASSWORD = "caller-media-pw"
LIVE_TIMEOUT_MS = 30_000
VIDEO_WITHIN_MS = 3_000
CALL_AT = (37.5700, 126.9830)
CALLER_GPS = {"latitude": 37.57123, "longitude": 126.98452, "accuracy": 12}
FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
PLAYING = """() => {
  const v = document.querySelector('#media-box video.caller-video');
  return v !== null && v.readyState >= 2 && v.currentTime > 0 ? v.currentTime : null;
}"""


@pytest.fixture(scope="module")
def media_browser(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any]
) -> Iterator[Browser]:
    """Chromium with the fake camera (the board and the caller share it)."""
    args = [*browser_type_launch_args.get("args", []), *FAKE_MEDIA]
    browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
    yield browser
    browser.close()


def sign_in(page: Page, base: str, user: str) -> None:
    page.goto(f"{base}/")
    page.get_by_label("사용자 User").fill(user)
    page.get_by_label("비밀번호 Password").fill(PASSWORD)
    page.get_by_role("button", name="로그인 Sign in").click()
    expect(page.locator("#conn")).not_to_have_class("conn down", timeout=LIVE_TIMEOUT_MS)


def stored_call(api: httpx.Client, call_id: str) -> str:
    """The incident id once the dispatch worker stored the call (waits on the API)."""
    deadline = time.monotonic() + LIVE_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        response = api.get(f"/api/calls/{call_id}")
        if response.status_code == 200:
            return str(response.json()["incident_id"])
        time.sleep(0.2)
    raise AssertionError(f"call {call_id} was not stored")


def test_caller_video_and_position_reach_the_panel(
    media_browser: Browser, secured_system: LocalSystem, accounts: Any, alert_fakes: Any
) -> None:
    base = secured_system.url
    now = datetime.now(UTC)
    accounts.add_user("media.dispatcher", roles=["dispatcher"], password=PASSWORD, now=now)
    token = accounts.issue_token("media.dispatcher", now=now)
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    call_id = f"call-media-{uuid.uuid4().hex[:8]}"
    taken = api.post(
        "/api/calls",
        json={
            "id": call_id,
            "lat": CALL_AT[0],
            "lon": CALL_AT[1],
            "type": "building_fire",
            "caller": "010-5555-0119",
            "description": "caller media test fire",
        },
    )
    assert taken.status_code == 202, taken.text
    incident_id = stored_call(api, call_id)

    # The link, by SMS through the Twilio channel (its loopback fake).
    link = api.post(f"/api/calls/{call_id}/media-link", json={})
    assert link.status_code == 200, link.text
    body = link.json()
    assert set(body) == {"url", "expires_at", "sms_status"}
    assert body["url"].startswith(f"{base}/m/")
    assert body["sms_status"] not in {"no_phone", "not_configured"}
    assert not body["sms_status"].startswith("failed"), body["sms_status"]
    assert any(body["url"] in m.body for m in alert_fakes["twilio"].messages())
    media = api.get(f"/api/calls/{call_id}/media").json()
    assert media == {**media, "state": "waiting", "location": None, "snapshots": []}

    # The dispatcher's board, with the incident's panel open.
    board = media_browser.new_page(viewport={"width": 1600, "height": 900})
    sign_in(board, base, "media.dispatcher")
    row = board.locator(f'#incidents tr[data-id="{incident_id}"]')
    expect(row).to_have_count(1, timeout=LIVE_TIMEOUT_MS)
    row.click()
    expect(board.locator("#media-box .media-session")).to_have_attribute("data-state", "waiting")

    # The caller opens the link on a phone: camera and location allowed, GPS at ±12 m.
    phone = media_browser.new_context(
        viewport={"width": 390, "height": 844},
        permissions=["camera", "geolocation"],
        geolocation=CALLER_GPS,
        locale="ko-KR",
    )
    caller = phone.new_page()
    logs: list[str] = []
    caller.on("console", lambda m: logs.append(f"caller: {m.text}"))
    board.on("console", lambda m: logs.append(f"board: {m.text}"))
    opened = time.monotonic()
    caller.goto(body["url"])
    board.wait_for_function(PLAYING, timeout=LIVE_TIMEOUT_MS)
    took = time.monotonic() - opened
    print(f"caller video playing in the panel {took:.2f} s after the link was opened")
    assert took * 1000 <= VIDEO_WITHIN_MS, (took, logs)
    first = board.evaluate(PLAYING)
    board.wait_for_function(f"() => ({PLAYING})() > {first}", timeout=5_000)  # advancing
    expect(caller.locator("#status")).to_contain_text("상황실", timeout=LIVE_TIMEOUT_MS)

    # Position with its accuracy, in the panel and on the map; the incident moves to it.
    location = board.locator("#media-box .media-location")
    expect(location).to_contain_text("±12 m", timeout=LIVE_TIMEOUT_MS)
    expect(location).to_contain_text("37.57123")
    expect(board.locator("path.caller-accuracy")).to_have_count(1)
    media = api.get(f"/api/calls/{call_id}/media").json()
    assert media["state"] == "live"
    assert media["location"]["accuracy_m"] == pytest.approx(12)
    assert media["location"]["lat"] == pytest.approx(CALLER_GPS["latitude"])
    expect(board.locator("#panel .timeline")).to_contain_text("relocated", timeout=LIVE_TIMEOUT_MS)
    incident = api.get(f"/api/incidents/{incident_id}").json()
    assert incident["lat"] == pytest.approx(CALLER_GPS["latitude"])
    assert incident["lon"] == pytest.approx(CALLER_GPS["longitude"])

    # A snapshot from the live video stays on the incident.
    board.locator("#media-box button", has_text="Snapshot").click()
    expect(board.locator("#media-box .media-snapshots img")).to_have_count(1, timeout=10_000)
    snap = api.get(f"/api/calls/{call_id}/media").json()["snapshots"][0]
    image = api.get(snap["url"])
    assert image.headers["content-type"] == "image/jpeg"
    assert image.content.startswith(b"\xff\xd8\xff")

    # A supervisor allows recording: the caller's phone records and uploads WebM pieces.
    accounts.add_user("media.supervisor", roles=["supervisor"], password=PASSWORD, now=now)
    boss = {"Authorization": f"Bearer {accounts.issue_token('media.supervisor', now=now)}"}
    recording = f"/api/calls/{call_id}/media/recording"
    assert api.post(recording, json={"on": True}, headers=boss).status_code == 200
    deadline = time.monotonic() + LIVE_TIMEOUT_MS / 1000
    while api.get(f"/api/calls/{call_id}/media").json()["recording_chunks"] < 1:
        assert time.monotonic() < deadline, "no recorded piece arrived"
        time.sleep(0.5)
    recorded = api.get(recording)
    assert recorded.status_code == 200 and recorded.content.startswith(b"\x1a\x45\xdf\xa3")
    assert api.post(recording, json={"on": False}, headers=boss).status_code == 200

    # The link again, from another device: refused, and the live session is untouched.
    other = media_browser.new_context(permissions=["camera", "geolocation"])
    second = other.new_page()
    response = second.goto(body["url"])
    assert response is not None and response.status == 410
    expect(second.locator("main.refused")).to_contain_text("이미 다른 기기에서")
    expect(second.locator("main.refused")).to_contain_text("already opened")
    assert api.get(f"/api/calls/{call_id}/media").json()["state"] == "live"
    # A forged link: refused the same way.
    forged = other.new_page().goto(f"{base}/m/{'A' * 43}")
    assert forged is not None and forged.status == 404

    # The caller ends the report; the panel says so.
    caller.get_by_role("button", name="영상 신고 끝내기").click()
    expect(board.locator("#media-box .media-session")).to_have_attribute(
        "data-state", "ended", timeout=LIVE_TIMEOUT_MS
    )
    # The CLI does what the POST does (a new link for the same call).
    cli = CliRunner().invoke(
        cli_main,
        ["call", "media-link", call_id, "--url", base, "--json", "--token", token],
    )
    assert cli.exit_code == 0, cli.output
    again = json.loads(cli.output)
    assert set(again) == {"url", "expires_at", "sms_status"}
    assert again["url"] != body["url"] and again["url"].startswith(f"{base}/m/")
    assert api.get(f"/api/calls/{call_id}/media").json()["state"] == "waiting"

    for context in (phone, other):
        context.close()
    board.close()
    api.close()
