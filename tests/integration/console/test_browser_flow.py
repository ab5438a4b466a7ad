"""In chromium: call -> live board -> dispatch recommended -> crew view -> on scene -> board."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from gt_testing import screenshot_dir
from playwright.sync_api import Browser, Page, expect

from ops.up import LocalSystem

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PASSWORD = "browser-test-pw"
LIVE_TIMEOUT_MS = 20_000


def sign_in(page: Page, base: str, path: str, user: str) -> None:
    page.goto(f"{base}{path}")
    expect(page).to_have_url(f"{base}/login?next={path.replace('/', '%2F')}")
    page.get_by_label("사용자 User").fill(user)
    page.get_by_label("비밀번호 Password").fill(PASSWORD)
    page.get_by_role("button", name="로그인 Sign in").click()
    expect(page.locator("#conn")).not_to_have_class("conn down", timeout=LIVE_TIMEOUT_MS)


def test_call_to_board_to_dispatch_to_crew_on_scene(
    browser: Browser, secured_system: LocalSystem, accounts: Any, tmp_path: Path
) -> None:
    images = screenshot_dir(tmp_path)
    base = secured_system.url
    now = datetime.now(UTC)
    accounts.add_user("kim.dispatcher", roles=["dispatcher"], password=PASSWORD, now=now)

    board = browser.new_page(viewport={"width": 1600, "height": 900})
    sign_in(board, base, "/", "kim.dispatcher")
    expect(board.locator("#who")).to_contain_text("kim.dispatcher")
    board.evaluate("window.__sameDocument = true")

    # The call: location by a click on the map (the view opens on the whole city).
    board.locator("#map").click(position={"x": 300, "y": 200})
    expect(board.locator("input[name=lat]")).not_to_have_value("")
    board.locator("select[name=type]").select_option("building_fire")
    board.locator("textarea[name=description]").fill("브라우저 시험 화재 browser test fire")
    board.get_by_role("button", name="접수 Take call").click()
    expect(board.locator("#formstatus")).to_contain_text("Accepted")

    # It appears on the board without a reload.
    row = board.locator("#incidents tr").first
    expect(row).to_contain_text("건물화재", timeout=LIVE_TIMEOUT_MS)
    row.click()
    expect(board.locator("#panel")).to_contain_text("browser test fire")
    expect(board.locator("#incident-place")).to_contain_text("구")  # gu · dong · junction · road
    dispatch = board.locator("#dispatch-recommended")
    expect(dispatch).to_be_enabled(timeout=LIVE_TIMEOUT_MS)
    dispatch.click()
    expect(board.locator("#panelstatus")).to_contain_text("accepted")
    expect(row).to_contain_text("출동 Dispatched", timeout=LIVE_TIMEOUT_MS)
    assert board.evaluate("window.__sameDocument") is True, "the board reloaded"

    incident_id = row.get_attribute("data-id")
    detail = board.request.get(f"{base}/api/incidents/{incident_id}").json()
    recommended = [u["unit_id"] for u in detail["recommendation"]["units"]]
    unit_id = next(u["id"] for u in detail["units"] if u["id"] in recommended)

    # The crew of one dispatched unit, on a phone.
    accounts.add_user("crew.one", roles=["crew"], unit_id=unit_id, password=PASSWORD, now=now)
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    sign_in(phone, base, "/crew", "crew.one")
    expect(phone.locator("#assigned-type")).to_contain_text("건물화재", timeout=LIVE_TIMEOUT_MS)
    expect(phone.locator("#route-eta")).to_contain_text("ETA")
    expect(phone.locator("#assigned-place")).to_contain_text("구")  # reverse geocoded
    expect(phone.locator("path.crew-route")).to_have_count(1)
    expect(phone.locator("#scene")).to_contain_text("At the scene", timeout=LIVE_TIMEOUT_MS)
    phone.get_by_role("button", name="확인 Acknowledge").click()
    expect(phone.locator("#crewout")).to_contain_text("Sent")
    phone.screenshot(path=str(images / "crew-view.png"), full_page=True)

    phone.get_by_role("button", name="현장 도착 On scene").click()
    expect(phone.locator("#unitstatus")).to_contain_text("On scene", timeout=LIVE_TIMEOUT_MS)

    # The board follows, live.
    expect(row).to_contain_text("현장 On scene", timeout=LIVE_TIMEOUT_MS)
    expect(board.locator("#panel")).to_contain_text("crew.one", timeout=LIVE_TIMEOUT_MS)
    board.screenshot(path=str(images / "console-board.png"))
    assert board.evaluate("window.__sameDocument") is True


def test_crew_cannot_open_the_board_nor_act_for_another_unit(
    browser: Browser, secured_system: LocalSystem, accounts: Any
) -> None:
    base = secured_system.url
    accounts.add_user(
        "crew.two", roles=["crew"], unit_id="NO-SUCH", password=PASSWORD, now=datetime.now(UTC)
    )
    page = browser.new_page()
    sign_in(page, base, "/crew", "crew.two")
    response = page.request.get(f"{base}/")
    assert response.status == 403
    csrf = page.evaluate("fetch('/api/me').then(r => r.json()).then(m => m.csrf_token)")
    r = page.request.post(
        f"{base}/api/units/OTHER/status",
        data={"status": "on_scene"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status == 403
