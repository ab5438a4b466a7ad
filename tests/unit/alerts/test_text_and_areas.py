"""SMS segments, EUC-KR, Korean classes and budgets, areas, splitting social posts."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from alerts.areas import area_geometry, circle_area, load_gazetteer
from alerts.cap import Severity, Urgency
from alerts.channels.social import split_post
from alerts.compose import compose, parse_request
from alerts.errors import AreaError, TextBudgetError, WorkflowError
from alerts.fakes.mastodon_api import mastodon_length
from alerts.korean import DisasterClass, cell_broadcast_request, check_text, classify
from alerts.sms_text import check_sms, sms_encoding


def test_gsm7_and_ucs2_segments() -> None:
    assert sms_encoding("a" * 160).parts == 1
    assert sms_encoding("a" * 161).parts == 2
    assert sms_encoding("a" * 306).parts == 2 and sms_encoding("a" * 307).parts == 3
    euro = sms_encoding("€" * 80)
    assert euro.encoding == "GSM-7" and euro.units == 160 and euro.parts == 1
    assert sms_encoding("가" * 70) == sms_encoding("가" * 70)
    assert sms_encoding("가" * 70).parts == 1 and sms_encoding("가" * 71).parts == 2
    assert sms_encoding("a" * 69 + "가").encoding == "UCS-2"
    assert sms_encoding("😀" * 35).units == 70  # surrogate pairs count twice


def test_korean_numbers_need_euc_kr_and_numeric_sender() -> None:
    check_sms("화재 발생 대피하세요", to="+821012345678", sender="+8215881190")
    with pytest.raises(TextBudgetError, match="EUC-KR"):
        check_sms("화재 🔥 대피", to="+821012345678", sender="+8215881190")
    with pytest.raises(TextBudgetError, match="numeric"):
        check_sms("화재", to="+821012345678", sender="Seoul119")
    check_sms("fire 🔥", to="+15551230001", sender="Seoul119")  # abroad: fine


def test_classes_and_budgets() -> None:
    assert classify(severity=Severity.EXTREME, urgency=Urgency.IMMEDIATE) is DisasterClass.EXTREME
    assert classify(severity=Severity.SEVERE, urgency=Urgency.EXPECTED) is DisasterClass.EMERGENCY
    assert classify(severity=Severity.MINOR, urgency=Urgency.FUTURE) is DisasterClass.SAFETY
    ok = check_text("가" * 157, severity=Severity.MINOR, urgency=Urgency.FUTURE, evacuation=False)
    assert ok.budget == 157
    with pytest.raises(TextBudgetError, match="158 characters"):
        check_text("가" * 158, severity=Severity.MINOR, urgency=Urgency.FUTURE, evacuation=False)
    with pytest.raises(TextBudgetError, match="evacuation messages allow 90"):
        check_text("가" * 91, severity=Severity.EXTREME, urgency=Urgency.IMMEDIATE, evacuation=True)


def _compose(**overrides: object):  # type: ignore[no-untyped-def]
    body = {
        "template": "evacuation",
        "headline_ko": "한강 수위 상승",
        "gu": ["마포구"],
        **overrides,
    }
    return compose(parse_request(body), gazetteer=load_gazetteer(), now=datetime.now(UTC))


def test_drafting_checks_the_budget_and_the_area() -> None:
    with pytest.raises(TextBudgetError):
        _compose(headline_ko="가" * 80)  # + instruction > 90 for an evacuation
    with pytest.raises(AreaError, match="unknown gu"):
        _compose(gu=["Atlantis"])
    with pytest.raises(AreaError, match="no area"):
        _compose(gu=[])
    with pytest.raises(AreaError, match="does not touch Seoul"):
        _compose(gu=[], circle={"lat": 35.1, "lon": 129.0, "radius_km": 1})
    with pytest.raises(WorkflowError, match="event"):
        _compose(template=None, event="x" * 40)


def test_cell_broadcast_request_payload() -> None:
    composed = _compose()
    payload = cell_broadcast_request(
        composed.alert,
        text=composed.texts["ko"],
        gu_codes=composed.gu_codes,
        requested_at=datetime(2026, 3, 2, tzinfo=UTC),
    )
    assert payload["class"] == "위급재난" and payload["budget"] == 90
    assert payload["evacuation"] is True and payload["areas"] == ["11440"]
    assert payload["characters"] == len(composed.texts["ko"]) <= 90
    assert payload["exercise"] is False and payload["requested_at"].endswith("+00:00")


def test_exercise_has_a_banner_in_every_language() -> None:
    composed = _compose(exercise=True, headline_en="River rising")
    assert composed.texts["ko"].startswith("[훈련상황]")
    assert composed.texts["en"].startswith("[EXERCISE")
    assert composed.alert.status.value == "Exercise" and composed.alert.note


def test_gazetteer_names() -> None:
    gazetteer = load_gazetteer()
    for name in ("종로구", "종로", "Jongno-gu", "jongno", "JONGNO GU"):
        assert gazetteer.resolve(name).code == "11110"
    assert gazetteer.resolve("Gangnam-gu/Sinsa-dong").label == "강남구 신사동"
    with pytest.raises(AreaError, match="ambiguous"):
        gazetteer.resolve("신사동")
    assert len(gazetteer.gu_names()) == 25


def test_circle_geometry_radius() -> None:
    shape = area_geometry(circle_area("c", lat=37.5, lon=127.0, radius_km=1.0))
    # pi km^2 on the WGS84 ellipsoid (a 64-gon holds 99.84 % of its circle)
    from pyproj import Geod

    km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(shape)[0]) / 1e6
    assert km2 == pytest.approx(math.pi * 0.9984, rel=0.01)
    with pytest.raises(AreaError):
        circle_area("c", lat=37.5, lon=127.0, radius_km=0)


def test_social_split_keeps_limit_and_link() -> None:
    link = "http://127.0.0.1:8119/alerts/GT-1"
    assert split_post("짧은 경보", link, limit=500) == [f"짧은 경보\n{link}"]
    posts = split_post("긴 경보 문장입니다. " * 80, link, limit=200)
    assert 1 < len(posts) <= 4
    assert all(mastodon_length(p) <= 200 for p in posts)
    assert link in posts[0] and posts[0].endswith(link)
