"""Two running centres on loopback (Seoul and Gyeonggi, each its own broker, worker, console and
database) exchange incidents over NENA-STA-024: a request for service becomes a call and an
incident at the other centre within 2 s and the answer returns; killing and restarting either
console loses no message and duplicates nothing; strangers and malformed messages are refused.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from gt_testing import run_coroutine, wait_until
from playwright.sync_api import Page, expect

from goldentime.procutil import free_port
from goldentime.settings import load_settings
from ops.up import LocalSystem
from tests.support.eido import SCHEMA_DIR

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

SEOUL, GG = "seoul.119.kr", "gyeonggi.119.kr"
SEOUL_TOKEN, GG_TOKEN = "seoul-presents-this", "gyeonggi-presents-this"


def _partner(
    pid: str, name: str, port: int, *, token_in: str, token_out: str, subscribe: list[str]
) -> dict[str, Any]:
    return {
        "id": pid,
        "name": name,
        "url": f"ws://127.0.0.1:{port}/api/exchange/ws",
        "token_in": token_in,
        "token_out": token_out,
        "subscribe": subscribe,
    }


@pytest.fixture(scope="module")
def centres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalSystem, LocalSystem]]:
    seoul_port, gg_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    seoul = LocalSystem(
        load_settings(
            data={"dir": tmp_path_factory.mktemp("seoul")},
            console={"port": seoul_port, "auth": "demo"},
            exchange={
                "agency_id": SEOUL,
                "centre_name": "서울종합방재센터",
                "eido_schema_dir": SCHEMA_DIR,
                "partners": [
                    _partner(
                        GG, "경기", gg_port, token_in=GG_TOKEN, token_out=SEOUL_TOKEN, subscribe=[]
                    )
                ],
            },
            logging={"level": "info"},
        ),
        echo=lambda _line: None,
    )
    gyeonggi = LocalSystem(
        load_settings(
            data={"dir": tmp_path_factory.mktemp("gyeonggi")},
            console={"port": gg_port, "auth": "demo"},
            exchange={
                "agency_id": GG,
                "centre_name": "경기119종합상황실",
                "eido_schema_dir": SCHEMA_DIR,
                "partners": [
                    _partner(
                        SEOUL,
                        "서울",
                        seoul_port,
                        token_in=SEOUL_TOKEN,
                        token_out=GG_TOKEN,
                        subscribe=["hazmat"],
                    )
                ],
            },
            logging={"level": "info"},
        ),
        echo=lambda _line: None,
    )
    seoul.start()
    try:
        gyeonggi.start()
        try:
            yield seoul, gyeonggi
        finally:
            gyeonggi.stop()
    finally:
        seoul.stop()


def _call(system: LocalSystem, call_id: str, *, kind: str, lat: float, lon: float) -> str:
    response = httpx.post(
        f"{system.url}/api/calls",
        json={"id": call_id, "lat": lat, "lon": lon, "type": kind, "description": call_id},
    )
    assert response.status_code == 202, response.text

    def stored() -> str | None:
        answer = httpx.get(f"{system.url}/api/calls/{call_id}")
        return answer.json()["incident_id"] if answer.status_code == 200 else None

    incident_id = wait_until(stored, timeout_s=15)
    assert incident_id
    return str(incident_id)


def _requests(system: LocalSystem) -> list[dict[str, Any]]:
    return list(httpx.get(f"{system.url}/api/exchange/requests").json())


def _notes(system: LocalSystem, incident_id: str) -> list[str]:
    body = httpx.get(f"{system.url}/api/incidents/{incident_id}").json()
    return [t["detail"] for t in body["timeline"] if t["kind"] == "note"]


def _kill_console(system: LocalSystem) -> int:
    pid = system.supervisor.pids()["console"]
    os.kill(pid, signal.SIGKILL)
    return pid


def _console_back(system: LocalSystem, killed: int) -> None:
    """Let the supervisor replace the killed console; wait until the new one answers."""

    def back() -> bool:
        system.tick()
        if system.supervisor.pids().get("console") in {None, killed}:
            return False
        try:
            return httpx.get(f"{system.url}/api/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    assert wait_until(back, timeout_s=60)


def _linked(*systems: LocalSystem) -> None:
    """Wait until every centre's link to its partner is up (after a start or a restart)."""

    def up() -> bool:
        try:
            answers = [httpx.get(f"{s.url}/api/exchange/partners") for s in systems]
        except httpx.HTTPError:
            return False
        for answer in answers:
            assert answer.status_code == 200, answer.text
        return all(all(p["connected"] for p in a.json()) for a in answers)

    assert wait_until(up, timeout_s=30)


def _followed(gyeonggi: LocalSystem, seoul_incident: str) -> list[str]:
    """Gyeonggi incidents opened from the Seoul incident's EIDO."""
    found = []
    for incident in httpx.get(f"{gyeonggi.url}/api/incidents").json():
        body = httpx.get(f"{gyeonggi.url}/api/incidents/{incident['id']}").json()
        if any(f":{seoul_incident}:" in c["description"] for c in body["calls"]):
            found.append(incident["id"])
    return found


def _dispatch_one(system: LocalSystem, incident_id: str) -> None:
    units = httpx.get(f"{system.url}/api/units", params={"status": "available"}).json()
    response = httpx.post(
        f"{system.url}/api/incidents/{incident_id}/dispatch",
        json={"unit_ids": [units[0]["id"]]},
    )
    assert response.status_code == 202, response.text


def _ask(system: LocalSystem, incident_id: str, units: int) -> str:
    response = httpx.post(
        f"{system.url}/api/exchange/incidents/{incident_id}/mutual-aid",
        json={"partner_id": GG, "units": units, "note": "관내 가용 구조대 부족"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["request_id"])


def test_a_request_for_service_is_a_call_there_within_2_s_and_the_answer_returns(
    centres: tuple[LocalSystem, LocalSystem],
) -> None:
    seoul, gyeonggi = centres
    incident = _call(seoul, "ex-rescue-1", kind="rescue", lat=37.5665, lon=126.978)
    _linked(seoul, gyeonggi)
    asked = time.monotonic()
    request_id = _ask(seoul, incident, 2)

    def received() -> dict[str, Any] | None:
        found = [r for r in _requests(gyeonggi) if r["request_id"] == request_id]
        return found[0] if found and found[0]["incident_id"] else None

    row = wait_until(received, timeout_s=10)
    took = time.monotonic() - asked
    assert row, "the request never arrived"
    print(f"request for service -> incident at the partner: {took:.3f} s")
    assert took < 2.0, f"request became an incident there after {took:.2f} s"
    there = httpx.get(f"{gyeonggi.url}/api/incidents/{row['incident_id']}").json()
    assert there["type"] == "rescue" and len(there["calls"]) == 1
    assert "[EIDO 서울]" in there["calls"][0]["description"]

    _dispatch_one(gyeonggi, row["incident_id"])

    def answered() -> dict[str, Any] | None:
        found = [r for r in _requests(seoul) if r["request_id"] == request_id]
        return found[0] if found and found[0]["status"] != "pending" else None

    answer = wait_until(answered, timeout_s=15)
    assert answer and answer["status"] == "accepted" and answer["response_code"] == 200
    assert answer["resources"] and answer["resources"][0]["primaryUnitStatusRegistryText"]
    assert wait_until(lambda: any("요청 수신" in n for n in _notes(gyeonggi, row["incident_id"])))
    assert wait_until(lambda: any("응답 수신" in n for n in _notes(seoul, incident)))


def _accepted_request(seoul: LocalSystem, gyeonggi: LocalSystem, call_id: str) -> tuple[str, str]:
    """Seoul asks 경기 for units and 경기 answers accepted: (Seoul incident, 경기 incident)."""
    incident = _call(seoul, call_id, kind="rescue", lat=37.5172, lon=127.0473)
    _linked(seoul, gyeonggi)
    request_id = _ask(seoul, incident, 1)

    def received() -> dict[str, Any] | None:
        found = [r for r in _requests(gyeonggi) if r["request_id"] == request_id]
        return found[0] if found and found[0]["incident_id"] else None

    row = wait_until(received, timeout_s=15)
    assert row, "the request never arrived"
    _dispatch_one(gyeonggi, row["incident_id"])
    assert wait_until(
        lambda: any(
            r["request_id"] == request_id and r["status"] == "accepted" for r in _requests(seoul)
        ),
        timeout_s=30,
    ), "the answer never came back"
    return incident, str(row["incident_id"])


@pytest.mark.browser
def test_the_boards_show_the_partner_and_the_requests(
    centres: tuple[LocalSystem, LocalSystem], page: Page
) -> None:
    # Makes its own request rather than relying on the module's other tests (in a full run
    # pytest groups the browser tests first; in a file run they come in file order).
    seoul, gyeonggi = centres
    seoul_incident, there = _accepted_request(seoul, gyeonggi, "ex-board-1")
    page.goto(f"{gyeonggi.url}/")
    row = page.locator(f'tr[data-id="{there}"]')
    expect(row.locator(".badge.partner")).to_have_text(" ⇄ 서울", timeout=20_000)
    row.click()
    box = page.locator("#exchangebox")
    expect(box).to_contain_text("← 서울 · 공동대응 joint response · accepted", timeout=20_000)
    page.goto(f"{seoul.url}/")
    page.locator(f'tr[data-id="{seoul_incident}"]').click()
    box = page.locator("#exchangebox")
    expect(box).to_contain_text("→ 경기 · 응원 mutual aid · accepted", timeout=20_000)
    page.locator("#aid-units").fill("2")
    page.locator("#ask-mutual-aid").click()
    expect(page.locator("#panelstatus")).to_contain_text("보냄 sent", timeout=20_000)
    # this incident's: the module's other tests may have sent requests of their own before
    sent = [
        r
        for r in _requests(seoul)
        if r["direction"] == "sent" and r["incident_id"] == seoul_incident
    ]
    assert len(sent) == 2, sent


def test_restarting_either_side_loses_nothing_and_doubles_nothing(
    centres: tuple[LocalSystem, LocalSystem],
) -> None:
    seoul, gyeonggi = centres
    _linked(seoul, gyeonggi)
    # A request asked while the partner's console is down arrives once it is back.
    incident = _call(seoul, "ex-rescue-2", kind="rescue", lat=37.5512, lon=126.9882)
    killed = _kill_console(gyeonggi)
    request_id = _ask(seoul, incident, 1)
    _console_back(gyeonggi, killed)

    def there() -> list[dict[str, Any]]:
        return [r for r in _requests(gyeonggi) if r["request_id"] == request_id]

    rows = wait_until(lambda: [r for r in there() if r["incident_id"]], timeout_s=30)
    assert len(rows) == 1
    # Its answer, made while the requester's console is down, arrives once it is back.
    killed = _kill_console(seoul)
    _dispatch_one(gyeonggi, rows[0]["incident_id"])
    _console_back(seoul, killed)

    def answered() -> bool:
        return any(
            r["request_id"] == request_id and r["status"] == "accepted" for r in _requests(seoul)
        )

    assert wait_until(answered, timeout_s=30)
    _linked(seoul, gyeonggi)
    assert len(there()) == 1
    incident_there = httpx.get(f"{gyeonggi.url}/api/incidents/{rows[0]['incident_id']}").json()
    assert len(incident_there["calls"]) == 1
    received_notes = [n for n in _notes(gyeonggi, rows[0]["incident_id"]) if "요청 수신" in n]
    assert len(received_notes) == 1
    answers = [n for n in _notes(seoul, incident) if "응답 수신" in n]
    assert len(answers) == 1

    # Subscriptions: Gyeonggi follows Seoul's hazmat incidents and catches up after a restart.
    first = _call(seoul, "ex-hazmat-1", kind="hazmat", lat=37.5702, lon=126.9921)
    assert wait_until(lambda: _followed(gyeonggi, first), timeout_s=15)
    killed = _kill_console(gyeonggi)
    second = _call(seoul, "ex-hazmat-2", kind="hazmat", lat=37.5481, lon=127.0012)
    _console_back(gyeonggi, killed)
    assert wait_until(lambda: _followed(gyeonggi, second), timeout_s=30)
    killed = _kill_console(seoul)  # and the notifier's restart duplicates nothing either
    _console_back(seoul, killed)
    _linked(seoul, gyeonggi)
    assert len(_followed(gyeonggi, first)) == 1 and len(_followed(gyeonggi, second)) == 1


def test_strangers_and_malformed_messages_are_refused_and_logged(
    centres: tuple[LocalSystem, LocalSystem],
) -> None:
    seoul, _gyeonggi = centres
    url = seoul.url.replace("http://", "ws://") + "/api/exchange/ws"
    before = len(_requests(seoul))

    async def stranger() -> tuple[int, str] | None:
        try:
            async with websockets.connect(
                url, additional_headers={"Authorization": "Bearer guessed"}
            ) as ws:
                await ws.recv()
        except websockets.ConnectionClosed as closed:
            return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else None
        return None

    closed = run_coroutine(stranger)  # Playwright may hold this thread's event loop
    assert closed == (1008, "unknown or missing partner token")

    async def malformed() -> list[dict[str, Any]]:
        answers = []
        async with websockets.connect(
            url, additional_headers={"Authorization": f"Bearer {GG_TOKEN}"}
        ) as ws:
            for raw in (
                "not json",
                '{"requestForService": {"requestId": "r-bad", "messageId": "m-bad"}}',
                json.dumps(
                    {
                        "requestForService": {
                            "requestId": "r-bad2",
                            "messageId": "m-bad2",
                            "eido": {"$id": "x"},
                        }
                    }
                ),
            ):
                await ws.send(raw)
                answers.append(json.loads(await ws.recv()))
        return answers

    answers = run_coroutine(malformed)
    assert [a["response"]["statusCode"] for a in answers[:2]] == [400, 400]
    assert "not JSON" in answers[0]["response"]["statusText"]
    assert "eido: missing" in answers[1]["response"]["statusText"]
    # a well-formed request whose EIDO is invalid: refused for good (acknowledged with 400)
    assert answers[2]["eventResponse"]["transactionId"] == "m-bad2"
    assert answers[2]["eventResponse"]["statusCode"] == 400
    assert "not a valid EIDO" in answers[2]["eventResponse"]["statusText"]
    assert len(_requests(seoul)) == before
    log = (Path(seoul.settings.data.dir) / "logs" / "console.log").read_text(errors="replace")
    assert "refused a connection" in log and "refused message from partner" in log
