from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldentime.contracts import Call, DeadLetter, Incident, decode, encode, json_schemas
from goldentime.errors import ContractError

KST = timezone(timedelta(hours=9))


def make_call(**overrides: object) -> Call:
    fields: dict[str, object] = {
        "id": "call-1",
        "received_at": datetime(2026, 11, 26, 9, 0, tzinfo=KST),
        "lat": 37.5665,
        "lon": 126.978,
        "type": "building_fire",
        "caller": "010-1234-5678",
        "description": "3층 상가 건물 연기",
    }
    fields.update(overrides)
    return Call.model_validate(fields)


@given(
    lat=st.floats(min_value=33, max_value=39),
    lon=st.floats(min_value=124, max_value=132),
    description=st.text(max_size=200).map(str.strip),
)
def test_call_round_trips_through_json(lat: float, lon: float, description: str) -> None:
    call = make_call(lat=lat, lon=lon, description=description)
    assert decode(Call, encode(call)) == call


def test_call_keeps_its_offset_as_the_same_instant() -> None:
    call = make_call()
    back = decode(Call, encode(call))
    assert back.event_time == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("patch", "field", "words"),
    [
        ({"lat": 51.5}, "lat", "less than or equal to 39"),
        ({"lon": "east"}, "lon", "valid number"),
        ({"type": "alien_invasion"}, "type", "Input should be"),
        ({"received_at": "2026-11-26T09:00:00"}, "received_at", "timezone offset"),
        ({"id": ""}, "id", "at least 1 character"),
        ({"id": "bad id with spaces"}, "id", "pattern"),
        ({"surprise": 1}, "surprise", "Extra inputs are not permitted"),
    ],
)
def test_invalid_call_names_field_and_reason(
    patch: dict[str, object], field: str, words: str
) -> None:
    data = json.loads(encode(make_call()))
    data.update(patch)
    with pytest.raises(ContractError) as info:
        decode(Call, json.dumps(data).encode())
    assert info.value.field == field
    assert words in info.value.reason


def test_missing_field_is_named() -> None:
    data = json.loads(encode(make_call()))
    del data["lat"]
    with pytest.raises(ContractError) as info:
        decode(Call, json.dumps(data))
    assert info.value.field == "lat"
    assert "Field required" in info.value.reason


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe", b"[1, 2]", b"null", b"42"])
def test_garbage_is_a_contract_error(raw: bytes) -> None:
    with pytest.raises(ContractError):
        decode(Call, raw)


def test_dead_letter_keeps_binary_payload_intact() -> None:
    raw = b"\xff\x00garbage"
    letter = DeadLetter.for_payload(
        raw, reason="not JSON", source_topic="calls", consumer="t", partition=2, offset=7
    )
    assert letter.id == "dl-calls-2-7"
    assert letter.payload_encoding == "base64"
    assert base64.b64decode(letter.payload) == raw
    assert decode(DeadLetter, encode(letter)) == letter


def test_dead_letter_keeps_text_payload_readable() -> None:
    letter = DeadLetter.for_payload(
        b'{"lat": 999}', reason="bad", source_topic="calls", consumer="t", offset=1, partition=0
    )
    assert letter.payload_encoding == "utf-8"
    assert letter.payload == '{"lat": 999}'


def test_incident_needs_a_call_or_an_event() -> None:
    now = datetime.now(UTC)
    with pytest.raises(ContractError):
        decode(
            Incident,
            json.dumps(
                {
                    "id": "INC-1",
                    "type": "fire",
                    "status": "open",
                    "lat": 37.5,
                    "lon": 127.0,
                    "call_ids": [],
                    "created_at": now.isoformat(),
                    "updated_at": now.isoformat(),
                }
            ),
        )


def test_exported_call_schema_is_current() -> None:
    """docs/schemas must be regenerated (`goldentime contracts export docs/schemas`) on change."""
    docs = Path(__file__).resolve().parents[3] / "docs" / "schemas"
    for name, schema in json_schemas().items():
        on_disk = json.loads((docs / f"{name}.schema.json").read_text(encoding="utf-8"))
        assert on_disk == schema, f"docs/schemas/{name}.schema.json is out of date"


def test_dead_letter_for_a_consumed_message_and_one_bad_item_of_it() -> None:
    from types import SimpleNamespace

    message = SimpleNamespace(
        topic="sensor.readings",
        partition=3,
        offset=41,
        key=b"br-1",
        value=b'[{"ok": 1}, {"bad": 2}]',
    )
    at = datetime(2026, 11, 26, tzinfo=UTC)
    whole = DeadLetter.for_message(message, reason="not a reading", consumer="w", at=at)
    assert (whole.id, whole.key, whole.payload) == (
        "dl-sensor.readings-3-41",
        "br-1",
        '[{"ok": 1}, {"bad": 2}]',
    )
    item = DeadLetter.for_message(
        message, reason="bad", consumer="w", at=at, payload=b'{"bad": 2}', part=1
    )
    assert (item.id, item.payload) == ("dl-sensor.readings-3-41-1", '{"bad": 2}')
    letter = DeadLetter.for_payload(b"\x00", reason="x", source_topic="t", consumer="w", at=at)
    again = DeadLetter.for_payload(b"\x00", reason="x", source_topic="t", consumer="w", at=at)
    assert letter.id == again.id, "ids without an offset are stable across processes"
