"""Requests between centres: a received request becomes a call here; it is answered accepted
(units, ETA) once units are on the incident, or declined with the reason; answers wait in the
outbox until the partner acknowledges them; an answer to one of ours is kept with the request."""

from __future__ import annotations

from pathlib import Path

import pytest
from gt_testing import run_coroutine
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.commands import apply_command
from dispatch.fleet import load_fleet
from dispatch.incident_store import IncidentRow, UnitRow
from dispatch.unit_store import seed_units
from exchange.export import Centre, export_incident
from exchange.link_store import OutboxRow, RequestRow, Sessions
from exchange.requests import RequestDesk
from exchange.schema import EidoSchema
from goldentime import topics
from goldentime.contracts import Call
from goldentime.contracts.dispatch import Command, CommandAction
from goldentime.settings import ExchangePartner, load_settings
from tests.support.eido import SCHEMA_DIR
from tests.support.exchange_record import NOW, FixedClock, record_at, service_over

SEOUL = ExchangePartner(
    id="seoul.119.kr",
    name="서울",
    url="ws://127.0.0.1:1/api/exchange/ws",
    token_in=SecretStr("a"),
    token_out=SecretStr("b"),
)


@pytest.fixture(scope="module")
def schema() -> EidoSchema:
    return EidoSchema(SCHEMA_DIR)


def _request_from_seoul(tmp_path: Path, schema: EidoSchema) -> dict[str, object]:
    """A requestForService body as the Seoul centre would send it."""
    seoul = record_at(tmp_path / "seoul.db")
    service = service_over(seoul, schema)
    call = Call(id="s-1", received_at=NOW, lat=37.5665, lon=126.978, type="rescue")
    run_coroutine(lambda: service._publish(topics.CALLS, call, ""))
    with seoul() as session:
        incident_id = session.scalars(select(IncidentRow.id)).one()
        eido = export_incident(session, incident_id, centre=Centre("seoul.119.kr", "서울"))
    return {"requestId": "ma-1", "messageId": "ma-1", "eido": eido, "unitsRequested": 2}


def _desk(record: sessionmaker[Session], schema: EidoSchema) -> RequestDesk:
    settings = load_settings(exchange={"agency_id": "gyeonggi.119.kr"})
    return RequestDesk(
        service=service_over(record, schema, settings),
        sessions=Sessions(reads=record, writes=record),
        clock=FixedClock(),
        partners=[SEOUL],
    )


def _outbox(record: sessionmaker[Session]) -> list[dict[str, object]]:
    with record() as session:
        return [dict(b) for b in session.scalars(select(OutboxRow.body).order_by(OutboxRow.seq))]


def test_a_request_is_accepted_with_units_and_eta_once_units_are_sent(
    tmp_path: Path, schema: EidoSchema
) -> None:
    body = _request_from_seoul(tmp_path, schema)
    record = record_at(tmp_path / "gg.db")
    desk = _desk(record, schema)
    incident_id = run_coroutine(lambda: desk.received(SEOUL, body))
    assert (
        run_coroutine(lambda: desk.received(SEOUL, body)) == incident_id
    )  # re-sent: same incident
    assert desk.answer_dispatched() == 0  # no units yet: still pending, nothing sent
    assert _outbox(record) == []
    settings = load_settings()
    with record.begin() as session:
        seed_units(
            session, load_fleet(settings.data.seoul_dir / "units" / "fire_units.csv"), now=NOW
        )
    with record.begin() as session:
        unit = session.scalars(select(UnitRow.id).order_by(UnitRow.id)).first()
        command = Command(
            id="d-1",
            at=NOW,
            actor="gg",
            action=CommandAction.DISPATCH,
            incident_id=incident_id,
            unit_ids=[unit],
        )
        assert apply_command(session, command, now=NOW).result.ok
    assert desk.answer_dispatched() == 1
    assert desk.answer_dispatched() == 0  # answered once
    (message,) = _outbox(record)
    answer = message["response"]
    assert isinstance(answer, dict)
    assert answer["requestId"] == "ma-1" and answer["responseCode"] == 200
    assert "accepted: 1 unit(s)" in str(answer["responseText"])
    resources = answer["eido"]["emergencyResourceComponent"]  # type: ignore[index]
    assert resources[0]["primaryUnitStatusRegistryText"] == "Dispatched"
    assert schema.errors(answer["eido"]) == []
    (row,) = desk.list()
    assert row["status"] == "accepted" and row["direction"] == "received"


def test_a_request_may_be_declined_with_the_reason(tmp_path: Path, schema: EidoSchema) -> None:
    body = _request_from_seoul(tmp_path, schema)
    record = record_at(tmp_path / "gg.db")
    desk = _desk(record, schema)
    run_coroutine(lambda: desk.received(SEOUL, body))
    key = desk.list()[0]["id"]
    desk.decline(str(key), reason="가용 구조대 없음")
    with pytest.raises(ValueError, match="not a pending received request"):
        desk.decline(str(key), reason="again")
    (message,) = _outbox(record)
    answer = message["response"]
    assert isinstance(answer, dict)
    assert answer["responseCode"] == 603 and "가용 구조대 없음" in str(answer["responseText"])


def test_an_answer_to_our_request_is_kept_once(tmp_path: Path, schema: EidoSchema) -> None:
    record = record_at(tmp_path / "gg.db")
    with record.begin() as session:
        session.add(
            RequestRow(
                id="sent:seoul.119.kr:ma-9",
                direction="sent",
                partner_id="seoul.119.kr",
                request_id="ma-9",
                kind="mutual_aid",
                incident_id="INC-1",
                status="pending",
                created_at=NOW,
                body={},
            )
        )
    desk = _desk(record, schema)
    answer = {"requestId": "ma-9", "responseCode": 603, "responseText": "declined: busy"}
    assert desk.answered("seoul.119.kr", answer) == "INC-1"
    assert desk.answered("seoul.119.kr", {**answer, "requestId": "unknown"}) is None
    (row,) = desk.list()
    assert row["status"] == "declined" and row["response_text"] == "declined: busy"
