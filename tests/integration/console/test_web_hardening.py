"""In chromium: the console's security headers hold and caller/partner text is never HTML.

A call whose description and caller are HTML that would run script, and a unit whose name is
(imported data), are shown as text on the board, in the incident panel and in map tooltips;
nothing runs; every main page carries the CSP and reports no violation of it. A call from a
gateway whose clock is 9 h ahead shows the clock flag on the board.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gt_testing import wait_until
from playwright.sync_api import Browser, BrowserContext, Page, expect

from ops.up import LocalSystem

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PASSWORD = "hardening-test-pw"
LIVE_TIMEOUT_MS = 45_000  # an upper bound on live updates (a crowded machine), not a speed check
ATTACK = '<img src=x onerror="window.__pwned.push(document.domain)">'
# Collects every CSP violation and every script the attack manages to run; added by Playwright
# before the page's own scripts (init scripts are not subject to the page's CSP).
WATCH = """
window.__pwned = [];
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}`));
"""


def watched(browser: Browser) -> tuple[BrowserContext, list[str]]:
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    context.add_init_script(WATCH)
    console_errors: list[str] = []
    context.on(
        "console",
        lambda m: console_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return context, console_errors


def sign_in(page: Page, base: str, path: str, user: str) -> None:
    page.goto(f"{base}/login?next={path.replace('/', '%2F')}")
    page.get_by_label("사용자 User").fill(user)
    page.get_by_label("비밀번호 Password").fill(PASSWORD)
    page.get_by_role("button", name="로그인 Sign in").click()
    expect(page).to_have_url(f"{base}{path}")


def assert_hardened(page: Page, response: Any, console_errors: list[str]) -> None:
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1]
    assert "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert page.evaluate("window.__csp") == [], "the page broke its own CSP"
    assert console_errors == []
    assert page.evaluate("window.__pwned") == []


def insert_unit(settings: Any, *, unit_id: str, name: str, lat: float, lon: float) -> None:
    """A unit whose imported name is HTML (out of service: never recommended)."""
    from dispatch.incident_store import UnitRow
    from goldentime.db import engine_for, session_factory

    now = datetime.now(UTC)
    with session_factory(engine_for(settings)).begin() as session:
        session.add(
            UnitRow(id=unit_id, station_id="X", station_name=name, name=name, kind="engine",
                    status="out_of_service", lat=lat, lon=lon, home_lat=lat, home_lon=lon,
                    incident_id=None, updated_at=now, revision=1, route=None)
        )  # fmt: skip


def stored(page: Page, base: str, call_id: str) -> dict[str, Any] | None:
    response = page.request.get(f"{base}/api/calls/{call_id}")
    return response.json() if response.ok else None


def test_caller_text_is_text_and_the_csp_holds(
    browser: Browser, secured_system: LocalSystem, accounts: Any
) -> None:
    base = secured_system.url
    accounts.add_user(
        "park.hardening",
        roles=["dispatcher", "supervisor"],
        password=PASSWORD,
        now=datetime.now(UTC),
    )
    context, console_errors = watched(browser)
    page = context.new_page()

    # the public alert page and the sign-in form, before any session
    assert_hardened(page, page.goto(f"{base}/alerts"), console_errors)
    assert_hardened(page, page.goto(f"{base}/login"), console_errors)

    # in the database before the board loads its units (the change feed is not the point here)
    unit_id = f"XSS-{uuid.uuid4().hex[:6]}"
    insert_unit(secured_system.settings, unit_id=unit_id, name=ATTACK, lat=37.5668, lon=126.9781)
    sign_in(page, base, "/", "park.hardening")
    expect(page.locator("#conn")).not_to_have_class("conn down", timeout=LIVE_TIMEOUT_MS)
    csrf = page.evaluate("fetch('/api/me').then(r => r.json()).then(m => m.csrf_token)")
    now = datetime.now(UTC)
    calls = {
        "attack": {"description": ATTACK, "caller": ATTACK[:64], "received_at": now},
        "skewed": {"description": "gateway 9 h ahead", "received_at": now + timedelta(hours=9)},
    }  # fmt: skip
    ids: dict[str, str] = {}
    for n, (name, fields) in enumerate(calls.items()):
        call_id = f"hard-{name}-{uuid.uuid4().hex[:8]}"
        body = {"id": call_id, "lat": 37.5702 + n * 0.01, "lon": 126.9822, "type": "rescue",
                **fields, "received_at": fields["received_at"].isoformat()}  # fmt: skip
        r = page.request.post(f"{base}/api/calls", data=body, headers={"X-CSRF-Token": csrf})
        assert r.status == 202, r.text()
        link = wait_until(lambda call_id=call_id: stored(page, base, call_id), timeout_s=60)
        assert link is not None, f"{call_id} never stored"
        ids[name] = link["incident_id"]

    # the board: the attack shows as text in the queue, the panel and the map tooltips
    row = page.locator(f'#incidents tr[data-id="{ids["attack"]}"]')
    expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    row.click()
    panel = page.locator("#panel")
    expect(panel.locator(".call-desc")).to_have_text(ATTACK, timeout=LIVE_TIMEOUT_MS)
    expect(panel).to_contain_text(ATTACK[:40])
    unit_row = page.locator(f'#unitrows tr[data-unit="{unit_id}"]')
    expect(unit_row).to_contain_text(ATTACK, timeout=LIVE_TIMEOUT_MS)
    page.evaluate(f"void unitMarkers.get({unit_id!r}).openTooltip()")
    expect(page.locator(".leaflet-tooltip")).to_contain_text(ATTACK)
    page.evaluate(f"void incidentMarkers.get({ids['attack']!r}).openTooltip()")
    expect(page.locator(".leaflet-tooltip").last).to_contain_text("구조 Rescue")
    assert page.locator('img[src="x"]').count() == 0, "caller text became an element"

    # the gateway with the wrong clock: taken, on the board, flagged
    skewed = page.locator(f'#incidents tr[data-id="{ids["skewed"]}"]')
    flag = re.compile(r"clock \+(8:59|9:00):\d\d")  # claimed 9 h ahead, taken a moment later
    expect(skewed.locator(".skew")).to_contain_text(flag, timeout=LIVE_TIMEOUT_MS)
    skewed.click()
    expect(panel.locator(".calls .skew")).to_contain_text("claimed", timeout=LIVE_TIMEOUT_MS)

    response = page.reload()
    expect(page.locator("#conn")).not_to_have_class("conn down", timeout=LIVE_TIMEOUT_MS)
    expect(page.locator(f'#incidents tr[data-id="{ids["attack"]}"]')).to_be_visible(
        timeout=LIVE_TIMEOUT_MS
    )
    assert_hardened(page, response, console_errors)
    for path, ready in (("/crew", "#unitname"), ("/supervisor/alerts", "#template option")):
        response = page.goto(f"{base}{path}")
        expect(page.locator(ready).first).to_be_attached(timeout=LIVE_TIMEOUT_MS)
        assert_hardened(page, response, console_errors)
    context.close()


def test_the_console_cannot_be_framed_nor_sniffed(secured_system: LocalSystem) -> None:
    import httpx

    with httpx.Client(base_url=secured_system.url) as client:
        for path in ("/login", "/api/health", "/static/console.js", "/alerts"):
            headers = client.get(path).headers
            assert "frame-ancestors 'none'" in headers["content-security-policy"], path
            assert headers["x-frame-options"] == "DENY", path
            assert headers["x-content-type-options"] == "nosniff", path
