"""The demo's caller with a phone camera: a headless Chromium with Chromium's fake camera.

Started by ``goldentime up`` (demo mode): it takes one 119 call (a building fire in Jongno),
asks the console for a caller media link (the SMS goes to the loopback Twilio fake), and opens
the link in a headless Chromium whose fake camera and fixed GPS stand in for the caller's
phone; the console's incident panel then shows the caller's video and position. Without
``/usr/bin/chromium`` (or Playwright) it says so and exits.

Run by hand: ``python -m console.caller_media_demo --url http://127.0.0.1:8000``.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

CHROMIUM = Path("/usr/bin/chromium")
CALL = {"lat": 37.57035, "lon": 126.98312, "type": "building_fire", "caller": "010-5555-0119"}
GPS_LAT, GPS_LON, GPS_ACCURACY_M = 37.57061, 126.98345, 15.0
FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def say(text: str) -> None:
    print(text, flush=True)  # the supervisor prefixes [caller-media]


def wait_ready(client: httpx.Client, stop: threading.Event, *, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not stop.is_set():
        try:
            if client.get("/api/health").json().get("dispatch_ready"):
                return True
        except (httpx.HTTPError, ValueError):
            pass
        stop.wait(0.5)
    return False


def take_call_and_link(client: httpx.Client, stop: threading.Event) -> tuple[str, str] | None:
    """A new demo call and its media link: ``(call id, link URL)``."""
    call_id = f"demo-caller-{uuid.uuid4().hex[:8]}"
    body = {**CALL, "id": call_id, "description": "데모: 발신자 영상 신고 (caller video demo)"}
    if client.post("/api/calls", json=body).status_code != 202:
        say("the console did not take the demo call")
        return None
    while not stop.is_set():
        if client.get(f"/api/calls/{call_id}").status_code == 200:
            break
        stop.wait(0.3)
    link = client.post(f"/api/calls/{call_id}/media-link", json={})
    if link.status_code != 200:
        say(f"no media link ({link.status_code}): {link.text}")
        return None
    data: dict[str, Any] = link.json()
    say(f"call {call_id}: link sent by SMS ({data['sms_status']}), opening it as the caller")
    return call_id, str(data["url"])


def incident_active(client: httpx.Client, call_id: str) -> bool:
    try:
        incident_id = client.get(f"/api/calls/{call_id}").json()["incident_id"]
        status = client.get(f"/api/incidents/{incident_id}").json()["status"]
    except (httpx.HTTPError, ValueError, KeyError):
        return True  # unknown: keep streaming
    return status in {"open", "dispatched", "on_scene"}


def run_caller(client: httpx.Client, stop: threading.Event) -> None:
    """Stream to the demo call's incident; when the demo crews close it, call again."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--disable-gpu", "--no-first-run", *FAKE_MEDIA],
        )
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            permissions=["camera", "geolocation"],
            geolocation={"latitude": GPS_LAT, "longitude": GPS_LON, "accuracy": GPS_ACCURACY_M},
            locale="ko-KR",
        )
        page = context.new_page()
        while not stop.is_set():
            taken = take_call_and_link(client, stop)
            if taken is None:
                break
            call_id, url = taken
            page.goto(url)
            say("caller page open: fake camera streaming, GPS ±15 m; see the incident panel")
            while not stop.is_set() and incident_active(client, call_id):
                page.wait_for_timeout(3000)  # keeps Playwright's event loop turning
            if not stop.is_set():
                say(f"the incident of {call_id} was closed by the demo crews: calling again")
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="Console URL.")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if not CHROMIUM.exists():
        say(f"{CHROMIUM} is not installed: no demo caller video (apt-get install chromium)")
        return 0
    try:
        import playwright  # noqa: F401
    except ImportError:
        say("Playwright is not installed (pip install playwright): no demo caller video")
        return 0
    with httpx.Client(base_url=args.url.rstrip("/"), timeout=15.0) as client:
        if not wait_ready(client, stop, timeout_s=300):
            say("the console did not become ready; no demo caller video")
            return 0
        run_caller(client, stop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
