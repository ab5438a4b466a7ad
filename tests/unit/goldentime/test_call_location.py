"""The caller's location uncertainty on the Call contract (version 2)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from goldentime.contracts import Call, LocationSource, decode, encode
from goldentime.errors import ContractError

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def call_json(**extra: object) -> bytes:
    body = {"id": "c-1", "received_at": T0.isoformat(), "lat": 37.5663, "lon": 126.9779}
    return orjson.dumps(body | {"type": "ems"} | extra)


def test_location_fields_round_trip() -> None:
    call = decode(Call, call_json(location_uncertainty_m=850.0, location_source="network"))
    assert call.location_uncertainty_m == 850.0
    assert call.location_source is LocationSource.NETWORK
    assert call.schema_version == Call.SCHEMA_VERSION
    assert decode(Call, encode(call)) == call


def test_the_fields_are_optional_and_a_version_1_record_still_reads() -> None:
    call = decode(Call, call_json(schema_version=1))
    assert call.location_uncertainty_m is None and call.location_source is None


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"location_uncertainty_m": 0}, "location_uncertainty_m"),
        ({"location_uncertainty_m": -5}, "location_uncertainty_m"),
        ({"location_uncertainty_m": 50_001}, "location_uncertainty_m"),
        ({"location_uncertainty_m": "near"}, "location_uncertainty_m"),
        ({"location_source": "gps"}, "location_source"),
        ({"schema_version": 4}, "schema_version"),
    ],
)
def test_bad_location_names_the_field(extra: dict[str, object], field: str) -> None:
    with pytest.raises(ContractError) as err:
        decode(Call, call_json(**extra))
    assert err.value.field == field


def test_every_source_the_issue_names() -> None:
    assert {s.value for s in LocationSource} == {"aml", "network", "caller", "call_taker"}


def test_cli_call_refuses_a_bad_uncertainty(capsys: pytest.CaptureFixture[str]) -> None:
    from ops.cli import main

    with pytest.raises(SystemExit) as info:
        main(["call", "--lat", "37.5", "--lon", "126.9", "--type", "ems", "--uncertainty", "0"])
    assert info.value.code == 2
    assert "--uncertainty" in capsys.readouterr().err
