"""MCI: casualty estimate from the calls, proposed response level, triage counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.casualty_words import MAX_STATED, stated_casualties
from dispatch.mci import (
    RESPONSE_LEVELS,
    TRIAGE,
    CasualtyEstimate,
    MciRules,
    estimate_casualties,
    propose_level,
    triage_counts,
)
from dispatch.surge import SurgeCall
from goldentime.contracts import IncidentType
from goldentime.errors import ContractError

T0 = datetime(2022, 10, 29, 13, 15, tzinfo=UTC)


def call(n: int, caller: str | None, description: str = "") -> SurgeCall:
    return SurgeCall(
        f"C{n}",
        T0 + timedelta(seconds=30 * n),
        37.5345,
        126.9945,
        IncidentType.EMS,
        caller=caller,
        description=description,
    )


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("3명 쓰러짐", 3),
        ("사람 5명이 깔렸어요", 5),
        ("여러 명이 쓰러졌어요", 3),
        ("수십 명이 깔려 있어요", 20),
        ("10여 명 의식 없음", 10),
        ("이십 명", 20),
        ("열두 명", 12),
        ("두세 명 숨을 못 쉬어요", 3),
        ("두 분이 쓰러지셨어요", 2),
        ("사람들이 깔렸어요", 2),
        ("인파에 끼어 움직일 수 없어요", 2),
        ("골목에 사람이 너무 많아 압사될 것 같아요", 2),
        ("crowd out of control", 2),
        ("20명 이상, 3명은 의식 없음", 20),
        ("1,000명", MAX_STATED),
        ("수백 명", MAX_STATED),
        ("several people down", 3),
        ("dozens of people crushed", 20),
        ("2 cars, 3 injured people", 3),
        ("a dozen people not breathing", 12),
        ("Five victims in the alley", 5),
    ],
)
def test_numbers_of_people_in_words(text: str, count: int) -> None:
    stated = stated_casualties(text)
    assert stated is not None and stated[0] == count


@pytest.mark.parametrize(
    "text",
    [
        "",
        "도와주세요",
        "10분 전에 넘어졌어요",
        "3층 계단",
        "5 min ago",
        "2 cars",
        "남자가 쓰러졌어요",
        "사람들이 모여 있어요, 남자가 쓰러졌어요",
        "사람들은 구경만 해요",
    ],
)
def test_numbers_not_about_people_are_not_counted(text: str) -> None:
    assert stated_casualties(text) is None


def test_repeat_callers_are_counted_once() -> None:
    calls = [call(0, "010-1"), call(1, "010-1"), call(2, "010-2"), call(3, None), call(4, None)]
    estimate = estimate_casualties(calls)
    assert (estimate.calls, estimate.distinct_callers, estimate.estimate) == (5, 4, 4)
    assert "1 repeat calls of the same numbers counted once" in estimate.reason


def test_a_redelivered_call_is_one_call() -> None:
    one = call(0, "010-1")
    assert estimate_casualties([one, one]).calls == 1


def test_stated_counts_raise_the_estimate_but_are_not_added() -> None:
    calls = [call(0, "010-1", "수십 명이 깔렸어요"), call(1, "010-2", "20명 넘게 쓰러짐")]
    estimate = estimate_casualties(calls)
    assert estimate.estimate == 20  # the same people, not 40
    assert "수십 명" in estimate.reason or "20명" in estimate.reason
    many = [call(i, f"010-{i}", "3명 쓰러짐") for i in range(8)]
    assert estimate_casualties(many).estimate == 8  # 8 callers > any one stated count


def test_no_calls() -> None:
    assert estimate_casualties([]) == CasualtyEstimate(0, 0, 0, "no calls")


def estimate(casualties: int, callers: int) -> CasualtyEstimate:
    return CasualtyEstimate(callers, callers, casualties, "test")


def test_levels_rise_with_calls_and_casualties() -> None:
    assert propose_level(estimate(3, 3), calls_per_10min=3, area_ambulances=6).level == 1
    level2 = propose_level(estimate(4, 4), calls_per_10min=4, area_ambulances=6)
    assert level2.level == 2 and level2.reason.startswith(RESPONSE_LEVELS[2])
    assert "4 calls in 10 min" in level2.reason
    assert propose_level(estimate(10, 2), calls_per_10min=2, area_ambulances=20).level == 2
    assert propose_level(estimate(30, 30), calls_per_10min=5, area_ambulances=40).level == 3
    assert propose_level(estimate(20, 20), calls_per_10min=20, area_ambulances=40).level == 3


def test_level_from_ambulances_of_the_station_area() -> None:
    short = propose_level(estimate(3, 3), calls_per_10min=3, area_ambulances=2)
    assert short.level == 2 and "exceed the station area's 2 free ambulances" in short.reason
    none = propose_level(estimate(1, 1), calls_per_10min=1, area_ambulances=0)
    assert none.level == 2 and "no free ambulance" in none.reason
    city = propose_level(estimate(9, 3), calls_per_10min=3, area_ambulances=2)
    assert city.level == 3 and RESPONSE_LEVELS[3] in city.reason


def test_scene_counts_raise_the_level() -> None:
    low = estimate(3, 3)
    counted = {"red": 12, "yellow": 10, "green": 5, "black": 4}
    proposal = propose_level(low, calls_per_10min=3, area_ambulances=40, triage=counted)
    assert proposal.level == 3 and "31 casualties estimated (31 counted at the scene)" in (
        proposal.reason
    )
    few = propose_level(estimate(12, 12), calls_per_10min=3, area_ambulances=40, triage={"red": 1})
    assert few.level == 2 and "counted at the scene" not in few.reason
    with pytest.raises(ContractError):
        propose_level(low, calls_per_10min=3, area_ambulances=4, triage={"grey": 1})


def test_a_repeat_caller_does_not_raise_the_rate() -> None:
    one_person = CasualtyEstimate(calls=6, distinct_callers=1, estimate=1, reason="")
    assert propose_level(one_person, calls_per_10min=6, area_ambulances=4).level == 1
    two = CasualtyEstimate(calls=6, distinct_callers=2, estimate=2, reason="")
    assert propose_level(two, calls_per_10min=6, area_ambulances=4).level == 1


def test_calling_back_counts_once_three_callers_report() -> None:
    three = CasualtyEstimate(calls=5, distinct_callers=3, estimate=3, reason="")
    proposal = propose_level(three, calls_per_10min=5, area_ambulances=4)
    assert proposal.level == 2 and "5 calls in 10 min" in proposal.reason


def test_level_1_says_why_not_higher() -> None:
    proposal = propose_level(estimate(2, 2), calls_per_10min=2, area_ambulances=5)
    assert proposal.level == 1 and "below level 2" in proposal.reason
    assert proposal.reason.startswith("대응 1단계")


def test_rules_and_inputs_are_validated() -> None:
    with pytest.raises(ContractError):
        MciRules(level2_casualties=10, level3_casualties=10)
    with pytest.raises(ContractError):
        MciRules(level3_ambulance_factor=1.0)
    with pytest.raises(ContractError) as err:
        propose_level(estimate(1, 1), calls_per_10min=-1, area_ambulances=1)
    assert err.value.field == "calls_per_10min"
    with pytest.raises(ContractError):
        propose_level(estimate(1, 1), calls_per_10min=1, area_ambulances=-3)
    custom = MciRules(level2_calls_per_10min=10, level3_calls_per_10min=30)
    assert (
        propose_level(estimate(4, 4), calls_per_10min=4, area_ambulances=6, rules=custom).level == 1
    )


def test_triage_counts() -> None:
    assert TRIAGE == ("red", "yellow", "green", "black")
    assert triage_counts({"red": 2}) == {"red": 2, "yellow": 0, "green": 0, "black": 0}
    with pytest.raises(ContractError) as err:
        triage_counts({"blue": 1})
    assert err.value.field == "triage"
    with pytest.raises(ContractError) as err:
        triage_counts({"red": -1})
    assert err.value.field == "triage.red"
    with pytest.raises(ContractError):
        triage_counts({"red": True})
    with pytest.raises(ContractError):
        triage_counts({"green": 2.5})
