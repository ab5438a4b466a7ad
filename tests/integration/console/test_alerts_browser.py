"""In chromium: supervisor A drafts a warning, supervisor B approves it, citizens see it.

A picks the template and 종로구, sees the live preview (class, SMS parts, recipients), and
submits; A cannot approve their own draft; B approves; the alert is on the public page (no
login) and in the Atom feed, and the Twilio fake received the SMS of a subscriber in 종로구.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from gt_testing import screenshot_dir
from playwright.sync_api import Browser, Page, expect

from ops.up import LocalSystem

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PASSWORD = "browser-alerts-pw"
TIMEOUT_MS = 20_000
JONGNO_SUBSCRIBER = "+821090000001"  # alerts.demo: a Korean subscriber at 세종로, 종로구
HEADLINE_KO = "브라우저 시험: 종로구 화재 연기"
HEADLINE_EN = "Browser test: fire smoke in Jongno-gu"


def sign_in(page: Page, base: str, user: str) -> None:
    page.goto(f"{base}/supervisor/alerts")
    expect(page).to_have_url(f"{base}/login?next=%2Fsupervisor%2Falerts")
    page.get_by_label("사용자 User").fill(user)
    page.get_by_label("비밀번호 Password").fill(PASSWORD)
    page.get_by_role("button", name="로그인 Sign in").click()
    expect(page.locator("#who")).to_contain_text(user, timeout=TIMEOUT_MS)


def test_two_supervisors_publish_a_warning_citizens_see_and_receive_it(
    browser: Browser,
    secured_system: LocalSystem,
    accounts: Any,
    alert_fakes: dict[str, Any],
    tmp_path: Path,
) -> None:
    base = secured_system.url
    now = datetime.now(UTC)
    accounts.add_user("sup.park", roles=["supervisor"], password=PASSWORD, now=now)
    accounts.add_user("sup.choi", roles=["supervisor"], password=PASSWORD, now=now)

    drafter = browser.new_page(viewport={"width": 1600, "height": 1000})
    sign_in(drafter, base, "sup.park")
    drafter.locator("#template").select_option("fire_smoke")
    drafter.locator("#headline_ko").fill(HEADLINE_KO)
    drafter.locator("#headline_en").fill(HEADLINE_EN)
    drafter.locator("#gu").select_option("종로구")
    expect(drafter.locator("#preview-class")).to_have_text("긴급재난", timeout=TIMEOUT_MS)
    expect(drafter.locator("#preview-recipients")).not_to_have_text("0")
    expect(drafter.locator(".sms-parts").first).to_have_text("1")
    drafter.get_by_role("button", name="초안 제출 Submit draft").click()
    expect(drafter.locator("#draftstatus")).to_contain_text("Draft saved", timeout=TIMEOUT_MS)
    row = drafter.locator("#alertrows tr", has_text=HEADLINE_KO)
    expect(row).to_contain_text("초안 Draft", timeout=TIMEOUT_MS)
    expect(row.get_by_role("button", name="승인 Approve")).to_be_disabled()  # not their own
    alert_id = row.get_attribute("data-id")
    assert alert_id

    approver = browser.new_page(viewport={"width": 1600, "height": 1000})
    sign_in(approver, base, "sup.choi")
    their_row = approver.locator(f'#alertrows tr[data-id="{alert_id}"]')
    expect(their_row).to_contain_text("실제 LIVE", timeout=TIMEOUT_MS)
    their_row.get_by_role("button", name="승인 Approve").click()
    expect(approver.locator("#approvalstatus")).to_contain_text("Approved", timeout=TIMEOUT_MS)
    expect(their_row).to_contain_text("발령 Published", timeout=TIMEOUT_MS)
    expect(their_row).to_contain_text("sup.choi")

    citizen = browser.new_page(viewport={"width": 390, "height": 844})  # no login
    citizen.goto(f"{base}/alerts")
    expect(citizen.locator(f'article[data-alert-id="{alert_id}"]')).to_contain_text(HEADLINE_KO)
    expect(citizen.locator(f'article[data-alert-id="{alert_id}"]')).to_contain_text(HEADLINE_EN)
    feed = citizen.request.get(f"{base}/alerts/feed.atom")
    assert feed.status == 200 and f"/alerts/{alert_id}.xml" in feed.text()

    twilio = alert_fakes["twilio"]
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline and JONGNO_SUBSCRIBER not in twilio.count_by_recipient():
        time.sleep(0.2)
    received = [m for m in twilio.messages() if m.to == JONGNO_SUBSCRIBER]
    assert len(received) == 1 and HEADLINE_KO in received[0].body
    expect(their_row.locator(".delivery")).to_contain_text("SMS", timeout=TIMEOUT_MS)
    drafter.screenshot(path=str(screenshot_dir(tmp_path) / "alerts-supervisor.png"))
