"""EIDOs from another centre come in through dispatch's intake: NENA's sample imports and
re-exports with its incident id, calls, agencies and locations; a re-sent EIDO changes
nothing; a Golden Time EIDO round-trips its type and position."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gt_testing import run_coroutine
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.incident_store import CallRow, IncidentRow, TimelineRow
from exchange.importer import EidoRefusedError, call_id_for
from exchange.schema import EidoSchema
from goldentime import topics
from goldentime.contracts import Call
from goldentime.db import create_schema, make_engine, session_factory, writer
from tests.support.eido import SAMPLE, SCHEMA_DIR
from tests.support.exchange_record import NOW, record_at, service_over


@pytest.fixture(scope="module")
def schema() -> EidoSchema:
    return EidoSchema(SCHEMA_DIR)


@pytest.fixture
def record(tmp_path: Path) -> sessionmaker[Session]:
    return record_at(tmp_path / "gt.db")


def _sample() -> dict[str, Any]:
    return dict(json.loads(SAMPLE.read_text(encoding="utf-8")))


def test_nena_sample_imports_and_re_exports_with_its_ids(
    record: sessionmaker[Session], schema: EidoSchema
) -> None:
    service = service_over(record, schema)
    sample = _sample()
    first = run_coroutine(lambda: service.take(sample, partner_id="state.pa.us", partner_name="PA"))
    assert first.created and not first.located
    again = run_coroutine(
        lambda: service.take(_sample(), partner_id="state.pa.us", partner_name="PA")
    )
    assert (again.incident_id, again.created) == (first.incident_id, False)
    with record() as session:
        assert session.scalar(select(func.count()).select_from(IncidentRow)) == 1
        call = session.get(CallRow, call_id_for("state.pa.us", sample["$id"]))
        assert call is not None and "위치 미확인" in call.description
        assert "[EIDO PA]" in call.description
    exported = service.export(first.incident_id)
    assert schema.errors(exported) == []
    assert exported["$id"] == sample["$id"]
    assert exported["incidentComponent"]["$id"] == sample["$id"]

    def ids(document: dict[str, Any], kind: str) -> set[str]:
        return {c["$id"] for c in document.get(kind, [])}

    for kind in ("callComponent", "agencyComponent", "locationComponent", "personComponent"):
        assert ids(sample, kind) <= ids(exported, kind), kind
    assert ids(exported, "callComponent") == ids(sample, "callComponent")  # no second call


def test_a_golden_time_eido_round_trips_type_and_position(
    record: sessionmaker[Session], schema: EidoSchema, tmp_path: Path
) -> None:
    sender_engine = make_engine(f"sqlite:///{tmp_path / 'sender.db'}")
    create_schema(sender_engine)
    sender = service_over(session_factory(writer(sender_engine)), schema)
    call = Call(
        id="gg-call-1",
        received_at=NOW,
        lat=37.4138,
        lon=127.5183,
        type="rescue",
        caller="010-1234-5678",
        description="계곡 고립자 구조 요청",
    )
    run_coroutine(lambda: sender._publish(topics.CALLS, call, ""))
    with session_factory(sender_engine)() as session:
        incident_id = session.scalars(select(IncidentRow.id)).one()
    document = sender.export(incident_id)
    receiver = service_over(record, schema)
    taken = run_coroutine(
        lambda: receiver.take(document, partner_id="gyeonggi.119.kr", partner_name="경기")
    )
    assert taken.created and taken.located
    with record() as session:
        row = session.get(IncidentRow, taken.incident_id)
        assert row is not None and row.type == "rescue"
        assert (round(row.lat, 5), round(row.lon, 5)) == (37.4138, 127.5183)
        imported = session.get(CallRow, taken.call_id)
        assert imported is not None and imported.caller == "01012345678"  # tel: URI digits
    exported = receiver.export(taken.incident_id)
    assert exported["$id"] == document["$id"]
    assert schema.errors(exported) == []


def test_an_invalid_eido_is_refused_and_nothing_is_stored(
    record: sessionmaker[Session], schema: EidoSchema
) -> None:
    service = service_over(record, schema)
    broken = _sample()
    del broken["agencyComponent"]
    with pytest.raises(EidoRefusedError, match=r"\$: required: 'agencyComponent'"):
        run_coroutine(lambda: service.take(broken, partner_id="state.pa.us", partner_name="PA"))
    with record() as session:
        assert session.scalar(select(func.count()).select_from(CallRow)) == 0


def test_an_exchanged_message_becomes_one_timeline_line(
    record: sessionmaker[Session], schema: EidoSchema
) -> None:
    service = service_over(record, schema)
    taken = run_coroutine(
        lambda: service.take(_sample(), partner_id="state.pa.us", partner_name="PA")
    )
    for _ in range(2):  # the same message noted twice is one line
        run_coroutine(
            lambda: service.note(
                taken.incident_id, "EIDO 수신", partner_id="state.pa.us", key="in:tx-1"
            )
        )
    with record() as session:
        notes = list(
            session.scalars(
                select(TimelineRow.detail).where(
                    TimelineRow.incident_id == taken.incident_id, TimelineRow.kind == "note"
                )
            )
        )
    assert notes == ["EIDO 수신"]


def test_our_own_incident_coming_back_is_not_taken_in_again(
    record: sessionmaker[Session], schema: EidoSchema
) -> None:
    service = service_over(record, schema)
    call = Call(id="own-1", received_at=NOW, lat=37.5665, lon=126.978, type="fire")
    run_coroutine(lambda: service._publish(topics.CALLS, call, ""))
    with record() as session:
        incident_id = session.scalars(select(IncidentRow.id)).one()
    echoed = service.export(incident_id)  # as a partner's copy would carry it back
    taken = run_coroutine(
        lambda: service.take(echoed, partner_id="gyeonggi.119.kr", partner_name="경기")
    )
    assert (taken.incident_id, taken.created) == (incident_id, False)
    with record() as session:
        assert session.scalar(select(func.count()).select_from(CallRow)) == 1
