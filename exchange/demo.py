"""`goldentime up --partner-demo`: a second centre (경기) beside Seoul, and two requests.

:func:`partner_pair` makes the settings of both centres: each names the other as its partner
(WebSocket URL and a fresh pair of tokens for this run); the 경기 centre has its own console
port, data directory, database and embedded broker. :func:`run_exchange` is the scenario (a
one-shot child of `up`, ``goldentime eido demo-exchange``), acting only through the consoles'
HTTP APIs like any dispatcher:

1. joint response (공동대응): 경기 takes a rescue call just across its border and asks Seoul to
   respond; Seoul's (simulated) dispatcher sends units and the answer goes back accepted;
2. mutual aid (응원출동): Seoul takes a building fire and asks 경기 for units for its shortfall;
   경기's dispatcher sends them and the answer comes back.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from goldentime.errors import GoldenTimeError
from goldentime.settings import ExchangePartner, Settings

GYEONGGI_ID = "gyeonggi.119.kr"
GYEONGGI_NAME = "경기"
GYEONGGI_CENTRE = "경기119종합상황실"
SEOUL_NAME = "서울"
WAIT_S = 120.0
JOINT_CALL = {"lat": 37.5797, "lon": 126.9770, "type": "rescue"}
FIRE_CALL = {"lat": 37.5704, "lon": 126.9920, "type": "building_fire"}


def _socket(host: str, port: int) -> str:
    return f"ws://{host}:{port}/api/exchange/ws"


def partner_pair(
    settings: Settings, *, seoul_port: int, partner_port: int, schema_dir: Path | None
) -> tuple[Settings, Settings]:
    """The Seoul centre's settings (with 경기 as partner) and the 경기 centre's."""
    host = settings.console.host
    seoul_token, partner_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    schema = {"eido_schema_dir": schema_dir} if schema_dir is not None else {}
    seoul = settings.updated(
        exchange={
            "partners": [
                ExchangePartner(
                    id=GYEONGGI_ID,
                    name=GYEONGGI_NAME,
                    url=_socket(host, partner_port),
                    token_in=SecretStr(partner_token),
                    token_out=SecretStr(seoul_token),
                ),
            ],
            **schema,
        }
    )
    partner = settings.updated(
        data={"dir": settings.data.dir / "partner-gyeonggi"},
        database={"url": None},
        broker={"bootstrap_servers": None, "embedded_port": 0},
        process={"metrics_port": None},
        console={"port": partner_port, "auth": "demo"},
        exchange={
            "agency_id": GYEONGGI_ID,
            "centre_name": GYEONGGI_CENTRE,
            "partners": [
                ExchangePartner(
                    id=settings.exchange.agency_id,
                    name=SEOUL_NAME,
                    url=_socket(host, seoul_port),
                    token_in=SecretStr(seoul_token),
                    token_out=SecretStr(partner_token),
                ),
            ],
            **schema,
        },
    )
    partner.data.dir.mkdir(parents=True, exist_ok=True)
    return seoul, partner


def _wait(what: str, probe: Callable[[], Any], *, timeout_s: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = probe()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(0.25)
    raise GoldenTimeError(f"partner demo: {what} did not happen within {timeout_s:.0f} s")


def _incident_of(client: httpx.Client, call: dict[str, Any]) -> str:
    response = client.post("/api/calls", json=call)
    response.raise_for_status()
    call_id = response.json()["call_id"]

    def stored() -> str | None:
        link = client.get(f"/api/calls/{call_id}")
        return str(link.json()["incident_id"]) if link.status_code == 200 else None

    return str(_wait(f"call {call_id} stored", stored))


def _ask_and_follow(
    requester: httpx.Client,
    responder: httpx.Client,
    *,
    incident_id: str,
    partner_id: str,
    units: int,
    note: str,
    echo: Callable[[str], None],
    label: str,
) -> None:
    asked = requester.post(
        f"/api/exchange/incidents/{incident_id}/mutual-aid",
        json={"partner_id": partner_id, "units": units, "note": note},
    )
    asked.raise_for_status()
    request_id = asked.json()["request_id"]
    echo(f"partner demo: {label}: {incident_id} asks {partner_id} (request {request_id})")

    def arrived() -> dict[str, Any] | None:
        rows = [
            r
            for r in responder.get("/api/exchange/requests").json()
            if r["request_id"] == request_id
        ]
        return rows[0] if rows else None

    row = _wait(f"{label} arriving", arrived)
    echo(f"partner demo: {label}: became incident {row['incident_id']} at the partner")

    def answered() -> dict[str, Any] | None:
        rows = [
            r
            for r in requester.get("/api/exchange/requests").json()
            if r["request_id"] == request_id and r["status"] != "pending"
        ]
        return rows[0] if rows else None

    answer = _wait(f"{label} answered", answered)
    echo(f"partner demo: {label}: {answer['status']} - {answer['response_text']}")


def run_exchange(*, seoul_url: str, partner_url: str, echo: Callable[[str], None]) -> None:
    """The two requests between the running centres (see the module docstring)."""
    with (
        httpx.Client(base_url=seoul_url, timeout=15.0) as seoul,
        httpx.Client(base_url=partner_url, timeout=15.0) as partner,
    ):

        def linked() -> bool:
            return all(
                p["connected"]
                for c in (seoul, partner)
                for p in c.get("/api/exchange/partners").json()
            )

        _wait("the centres linking up", linked)
        echo("partner demo: Seoul and 경기 are linked (NENA-STA-024 over WebSocket)")
        joint = _incident_of(
            partner,
            {
                **JOINT_CALL,
                "caller": "010-2468-1357",
                "description": "북한산 등산로 추락, 서울 관할 경계",
            },
        )
        _ask_and_follow(
            partner,
            seoul,
            incident_id=joint,
            partner_id=partner.get("/api/exchange/partners").json()[0]["id"],
            units=1,
            note="공동대응 요청: 관할 경계 인명구조",
            echo=echo,
            label="joint response 경기 -> 서울",
        )
        fire = _incident_of(
            seoul,
            {**FIRE_CALL, "caller": "010-9753-8642", "description": "종로 건물화재, 대응 1단계"},
        )
        _ask_and_follow(
            seoul,
            partner,
            incident_id=fire,
            partner_id=GYEONGGI_ID,
            units=2,
            note="응원출동 요청: 관내 가용 펌프차 부족",
            echo=echo,
            label="mutual aid 서울 -> 경기",
        )
