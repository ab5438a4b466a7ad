"""Calls from a sender whose clock is wrong: flagged with the skew, placed by the receipt time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dispatch.catalog import load_catalog
from dispatch.commands import apply_command
from dispatch.incident_store import CallRow, get_incident, list_incidents
from dispatch.intake import ingest
from dispatch.signals import call_signal
from goldentime.contracts import Call, IncidentType, decode, encode, sender_clock_skew_s
from goldentime.contracts.dispatch import Command, CommandAction
from goldentime.db import create_schema, make_engine, session_factory, writer
from goldentime.errors import ContractError

NOW = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
CATALOG = load_catalog()
KST = timedelta(hours=9)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    return session_factory(writer(engine))


def call(id_: str, *, claimed: datetime, accepted: datetime, **fields: object) -> Call:
    skew = sender_clock_skew_s(claimed, accepted, ahead_max_s=30, behind_max_s=900)
    return Call(
        id=id_,
        received_at=claimed,
        accepted_at=accepted,
        clock_skew_s=skew,
        lat=37.57,
        lon=126.98,
        type=IncidentType.BUILDING_FIRE,
        **fields,  # type: ignore[arg-type]
    )


def test_skew_rule_flags_the_future_and_the_far_past_only() -> None:
    def skew(offset_s: float) -> float | None:
        claimed = NOW + timedelta(seconds=offset_s)
        return sender_clock_skew_s(claimed, NOW, ahead_max_s=30, behind_max_s=900)

    assert skew(0) is None
    assert skew(30) is None and skew(-900) is None  # the bounds themselves are fine
    assert skew(-120) is None  # posted two minutes after it was answered: a normal call
    assert skew(31) == 31
    assert skew(-901) == -901
    assert skew(KST.total_seconds()) == 9 * 3600  # local time sent as UTC
    assert skew(-5 * 3600) == -5 * 3600


def test_a_flagged_call_is_placed_by_the_receipt_time_and_keeps_the_claim() -> None:
    claimed = NOW + KST
    flagged = call("c-kst", claimed=claimed, accepted=NOW)
    assert flagged.clock_skew_s == 9 * 3600
    assert flagged.event_time == NOW
    assert flagged.received_at == claimed
    again = decode(Call, encode(flagged))
    assert again == flagged and again.schema_version == 3
    fine = call("c-ok", claimed=NOW - timedelta(seconds=40), accepted=NOW)
    assert fine.clock_skew_s is None
    assert fine.event_time == NOW - timedelta(seconds=40)  # the answer time, as before


def test_a_version_1_call_without_receipt_is_still_read() -> None:
    raw = (
        b'{"id":"c-1","schema_version":1,"received_at":"2026-11-26T09:00:00+09:00",'
        b'"lat":37.57,"lon":126.98,"type":"fire"}'
    )
    old = decode(Call, raw)
    assert old.accepted_at is None and old.event_time == NOW


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"clock_skew_s": 3600.0}, "clock_skew_s needs accepted_at"),
        (
            {"clock_skew_s": 60.0, "accepted_at": "2026-11-26T00:00:00+00:00"},
            "clock_skew_s must be received_at minus accepted_at",
        ),
        (
            {"schema_version": 2, "accepted_at": "2026-11-26T00:00:00+00:00"},
            "need schema_version 3",
        ),
    ],
)
def test_inconsistent_skew_is_refused_with_the_reason(
    fields: dict[str, object], reason: str
) -> None:
    record = {"id": "c-1", "received_at": "2026-11-26T03:00:00+00:00", "lat": 37.57,
              "lon": 126.98, "type": "fire"} | fields  # fmt: skip
    with pytest.raises(ContractError, match=reason):
        decode(Call, encode_dict(record))


def encode_dict(record: dict[str, object]) -> bytes:
    import orjson

    return orjson.dumps(record)


def test_skewed_calls_join_the_live_incident_and_flag_it(sessions) -> None:  # type: ignore[no-untyped-def]
    first = call("c-1", claimed=NOW, accepted=NOW)
    behind = call("c-2", claimed=NOW - timedelta(hours=5), accepted=NOW + timedelta(seconds=60))
    ahead = call("c-3", claimed=NOW + KST, accepted=NOW + timedelta(seconds=90))
    out = ingest(sessions, [call_signal(first)], now=NOW, catalog=CATALOG)
    incident_id = out.new_incident_ids[0]
    assert out.incidents[0].clock_skew_s is None
    out = ingest(sessions, [call_signal(c) for c in (ahead, behind)], now=NOW, catalog=CATALOG)
    assert out.new_incident_ids == [], "a wrong clock must not split the incident"
    assert out.links == {"c-2": incident_id, "c-3": incident_id}
    (incident,) = out.incidents
    assert incident.clock_skew_s == 9 * 3600 - 90, "the skew of largest size flags it"
    assert incident.call_ids == ["c-1", "c-2", "c-3"], "ordered by receipt, not by the claim"
    assert incident.created_at == NOW
    with sessions() as s:
        rows = {r.id: r for r in s.query(CallRow)}
        listed = list_incidents(s)
    assert rows["c-2"].received_at == NOW + timedelta(seconds=60)
    assert rows["c-2"].clock_skew_s == pytest.approx(-5 * 3600 - 60)
    assert rows["c-2"].payload["received_at"].startswith("2026-11-25T19:00:00")
    assert rows["c-1"].clock_skew_s is None
    assert [i.clock_skew_s for i in listed] == [9 * 3600 - 90]


def test_a_skewed_call_opening_an_incident_dates_it_by_receipt(sessions) -> None:  # type: ignore[no-untyped-def]
    stale = call("c-old", claimed=NOW - timedelta(hours=3), accepted=NOW)
    out = ingest(sessions, [call_signal(stale)], now=NOW, catalog=CATALOG)
    (incident,) = out.incidents
    assert incident.created_at == NOW, "golden time runs from the receipt, not 3 h ago"
    assert incident.clock_skew_s == -3 * 3600
    assert out.timeline[0].at == NOW
    with sessions() as s:
        assert [i.id for i in list_incidents(s, limit=1)] == [incident.id], "newest on the board"


def test_unlinking_a_skewed_call_carries_its_flag(sessions) -> None:  # type: ignore[no-untyped-def]
    calls = [
        call("c-1", claimed=NOW, accepted=NOW),
        call("c-2", claimed=NOW + KST, accepted=NOW + timedelta(seconds=10)),
    ]
    ingest(sessions, [call_signal(c) for c in calls], now=NOW, catalog=CATALOG)
    command = Command(
        id="k-1",
        at=NOW + timedelta(minutes=1),
        actor="kim",
        action=CommandAction.UNLINK,
        call_id="c-2",
    )
    with sessions.begin() as s:
        applied = apply_command(s, command, now=NOW + timedelta(minutes=1))
    assert applied.result.ok, applied.result.reason
    with sessions() as s:
        moved = get_incident(s, s.get(CallRow, "c-2").incident_id)  # type: ignore[union-attr]
        assert moved is not None
        assert [c.id for c in moved.calls] == ["c-2"]
        assert moved.clock_skew_s == 9 * 3600 - 10
