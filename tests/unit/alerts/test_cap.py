"""CAP: every real sample parses and validates as it should; the XXE file is refused;
compose → serialise → parse round-trips; the profile rules bite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from alerts.areas import load_gazetteer
from alerts.cap import MsgType, Severity
from alerts.capvalidate import profile_errors, validate_document
from alerts.capxml import format_time, parse, serialize
from alerts.compose import compose, parse_request
from alerts.errors import CapRefusedError
from goldentime.settings import load_settings

CAP_DIR = load_settings().data.seoul_dir / "cap"

# file -> (version, schema-valid, substrings expected among the profile problems)
EXPECTED: dict[str, tuple[str, bool, list[str]]] = {
    "43b080713727.cap": ("1.2", True, ["event: 40 characters"]),
    "australia.cap": ("1.2", True, []),
    "canada.cap": ("1.2", True, []),
    "canada_errors.cap": ("1.2", True, ["references: required on msgType Update"]),
    "canada_signed.cap": ("1.2", True, []),
    "earthquake-iso8859-1.cap": ("1.2", True, ["severity: Unknown"]),
    "earthquake.cap": ("1.1", True, ["severity: Unknown"]),
    "no_optional_fields.cap": ("1.1", True, ["at least one <info>"]),
    "thunderstorm.cap": ("1.2", True, []),
    "wcatwc-warning.cap": ("1.2", True, []),
    "invalid.cap": ("1.2", False, []),
}


def test_every_sample_is_covered() -> None:
    on_disk = {p.name for p in CAP_DIR.glob("*.cap")} - {"xee.cap"}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_alerts_validate_as_they_should(name: str) -> None:
    version, schema_valid, profile = EXPECTED[name]
    report = validate_document((CAP_DIR / name).read_bytes())
    assert report.version == version
    assert report.schema_valid is schema_valid, report.schema_errors
    for fragment in profile:
        assert any(fragment in problem for problem in report.profile_errors), report.profile_errors
    if not profile and schema_valid:
        assert report.profile_errors == []


def test_invalid_cap_names_the_reason() -> None:
    report = validate_document((CAP_DIR / "invalid.cap").read_bytes())
    assert any("scope" in e for e in report.schema_errors)


def test_entity_attack_is_refused() -> None:
    with pytest.raises(CapRefusedError, match="DTD"):
        validate_document((CAP_DIR / "xee.cap").read_bytes())
    with pytest.raises(CapRefusedError):
        parse(b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>")


def test_not_xml_is_refused() -> None:
    with pytest.raises(CapRefusedError, match="well-formed"):
        parse(b"<alert><unclosed></alert>")


def test_real_alert_model_fields() -> None:
    alert = parse((CAP_DIR / "australia.cap").read_bytes())
    info = alert.infos[0]
    assert info.areas and (info.areas[0].circles or info.areas[0].geocodes)
    alert = parse((CAP_DIR / "earthquake-iso8859-1.cap").read_bytes())
    assert alert.infos[0].severity is Severity.UNKNOWN


def _draft(**overrides: object) -> object:
    body = {
        "template": "fire_smoke",
        "headline_ko": "종로구 화재 연기",
        "headline_en": "Fire smoke in Jongno",
        "gu": ["종로구"],
        **overrides,
    }
    return compose(
        parse_request(body),
        gazetteer=load_gazetteer(),
        now=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
    )


def test_compose_round_trip_two_languages_numeric_offset() -> None:
    composed = _draft(circle={"lat": 37.57, "lon": 126.98, "radius_km": 2})
    xml = serialize(composed.alert)  # type: ignore[attr-defined]
    assert b"<sent>2026-03-02T10:00:00+09:00</sent>" in xml
    assert b"Z<" not in xml
    report = validate_document(xml)
    assert report.publishable, report.schema_errors + report.profile_errors
    assert parse(xml) == composed.alert  # type: ignore[attr-defined]
    assert [i.language for i in parse(xml).infos] == ["ko-KR", "en-US"]
    area = parse(xml).infos[0].areas
    assert area[0].geocodes[0].value == "11110" and area[1].circles[0].radius_km == 2


def test_profile_rules() -> None:
    alert = _draft().alert  # type: ignore[attr-defined]
    update = alert.model_copy(update={"msg_type": MsgType.UPDATE})
    assert any("references" in p for p in profile_errors(update))
    long_event = alert.model_copy(
        update={"infos": (alert.infos[0].model_copy(update={"event": "x" * 35}),)}
    )
    assert any("under 35" in p for p in profile_errors(long_event))
    unknown = alert.model_copy(
        update={"infos": (alert.infos[0].model_copy(update={"severity": Severity.UNKNOWN}),)}
    )
    assert any("Unknown" in p for p in profile_errors(unknown))


def test_format_time_never_z() -> None:
    assert format_time(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00+00:00"
    kst = timezone(timedelta(hours=9))
    assert format_time(datetime(2026, 1, 1, 9, tzinfo=kst)) == "2026-01-01T09:00:00+09:00"
    with pytest.raises(ValueError):
        format_time(datetime(2026, 1, 1))


def test_cap_dir_exists() -> None:
    assert Path(CAP_DIR / "cap12.xsd").is_file()
