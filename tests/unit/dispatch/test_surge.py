"""Surge detection: a burst of calls from one spot is one event; ordinary traffic stays out."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.cells import distance_m
from dispatch.surge import SURGE_TYPES, SurgeArea, SurgeCall, SurgeRules, find_surge, surge_reason
from goldentime.contracts import IncidentType
from goldentime.errors import ContractError, GoldenTimeError

T0 = datetime(2022, 10, 29, 13, 15, tzinfo=UTC)  # 22:15 KST
LAT, LON = 37.5345, 126.9945  # the alley by the Hamilton hotel, 이태원동
RULES = SurgeRules()
EMS = IncidentType.EMS
CROWD = "골목에서 사람들이 넘어져 깔려 있어요"
ONE_MAN = "남자가 길에서 쓰러졌어요"


def at(north_m: float = 0.0, east_m: float = 0.0) -> tuple[float, float]:
    return (
        LAT + north_m / 110_574.0,
        LON + east_m / (111_320.0 * math.cos(math.radians(LAT))),
    )


def call(
    n: int,
    *,
    s: float = 0.0,
    north: float = 0.0,
    east: float = 0.0,
    kind: IncidentType = EMS,
    u: float | None = None,
    caller: str | None = "auto",
    text: str = CROWD,
) -> SurgeCall:
    lat, lon = at(north, east)
    number = f"010-0000-{n:04d}" if caller == "auto" else caller
    return SurgeCall(f"C{n}", T0 + timedelta(seconds=s), lat, lon, kind, u, number, text)


def crowd(count: int, *, every_s: float = 40.0) -> list[SurgeCall]:
    """Calls around the alley, spread over ~250 m, one every ``every_s`` seconds."""
    offsets = [(0, 0), (120, -60), (-90, 80), (60, 150), (-150, -100), (30, -200), (200, 40)]
    return [
        call(i, s=i * every_s, north=offsets[i % 7][0], east=offsets[i % 7][1], u=100.0)
        for i in range(count)
    ]


def test_five_crowd_calls_in_minutes_are_a_surge_with_a_robust_centre() -> None:
    calls = crowd(5)
    area = find_surge(calls[-1], calls[:-1], rules=RULES)
    assert area is not None
    assert area.call_ids == tuple(c.id for c in calls)
    assert area.calls_in_window == 5 and area.distinct_callers == 5
    assert area.first_at == calls[0].at and area.last_at == calls[-1].at
    assert distance_m(area.lat, area.lon, LAT, LON) < 100
    assert area.radius_m <= RULES.radius_m + RULES.max_uncertainty_m


def test_two_calls_are_not_a_surge() -> None:
    calls = crowd(2)
    assert find_surge(calls[-1], calls[:-1], rules=RULES) is None


def test_the_third_call_of_a_burst_is_a_surge_and_the_fourth_stays_one() -> None:
    calls = crowd(3, every_s=60)
    area = find_surge(calls[-1], calls[:-1], rules=RULES)
    assert area is not None and "burst" in area.trigger
    # a 4th call 4 min later, from a number already heard: the burst is still in the window
    fourth = call(9, s=360, north=40, caller=calls[0].caller)
    later = find_surge(fourth, calls, rules=RULES)
    assert later is not None and later.calls_in_window == 4 and later.distinct_callers == 3


def test_three_passers_by_about_one_man_are_not_a_surge_until_five_call() -> None:
    calls = [call(i, s=i * 40.0, north=i * 10.0, text=ONE_MAN) for i in range(5)]
    assert find_surge(calls[2], calls[:2], rules=RULES) is None
    assert find_surge(calls[3], calls[:3], rules=RULES) is None
    area = find_surge(calls[4], calls[:4], rules=RULES)
    assert area is not None and "surge from 5" in area.trigger
    # one of three speaking of several people makes the burst
    mixed = [*calls[:2], call(2, s=80, north=20, text="2명 의식 없음")]
    area = find_surge(mixed[2], mixed[:2], rules=RULES)
    assert area is not None and "'2명'" in area.trigger
    # the rule can be switched off: any three callers in minutes
    plain = SurgeRules(burst_needs_several=False)
    assert find_surge(calls[2], calls[:2], rules=plain) is not None


def test_three_calls_spread_beyond_the_burst_window_are_not_a_surge() -> None:
    # only the first caller speaks of several people: the burst needs the three in 5 min
    calls = [
        call(0, s=0),
        call(1, s=200, north=50, text=ONE_MAN),
        call(2, s=301, east=50, text=ONE_MAN),
    ]
    assert find_surge(calls[-1], calls[:-1], rules=RULES) is None
    calls[2] = call(2, s=300, east=50, text=ONE_MAN)  # exactly at the edge: counted
    area = find_surge(calls[-1], calls[:-1], rules=RULES)
    assert area is not None and "burst from 3" in area.trigger and area.several_callers == 1


def test_three_witnesses_of_several_people_within_the_window_are_a_surge() -> None:
    # each of three callers speaks of several people: corroborated over the whole window
    calls = [call(0, s=0), call(1, s=200, north=50), call(2, s=590, east=50, text="3명 쓰러짐")]
    area = find_surge(calls[-1], calls[:-1], rules=RULES)
    assert area is not None and area.several_callers == 3
    assert area.trigger == (
        "3 callers within 10 min each speak of several people ('사람들', '3명'; "
        "corroborated from 3)"
    )
    # a caller who calls back is one witness; a caller of one man is none
    again = [*calls[:1], call(1, s=200, north=50, caller=calls[0].caller), calls[2]]
    assert find_surge(again[-1], again[:-1], rules=RULES) is None
    one_man = [*calls[:2], call(2, s=590, east=50, text=ONE_MAN)]
    assert find_surge(one_man[-1], one_man[:-1], rules=RULES) is None
    # beyond the window the first is forgotten
    late = [*calls[:2], call(2, s=601, east=50, text="3명 쓰러짐")]
    assert find_surge(late[-1], late[:-1], rules=RULES) is None
    with pytest.raises(ContractError, match="corroborated_calls"):
        SurgeRules(corroborated_calls=6)


def test_calls_at_the_window_edge() -> None:
    old = [call(i, s=i * 150.0, north=i * 20.0) for i in range(4)]  # 0, 150, 300, 450 s
    new = call(9, s=600.0, east=30)
    area = find_surge(new, old, rules=RULES)
    assert area is not None and area.calls_in_window == 5  # C0 exactly 600 s old counts
    late = call(9, s=600.5, east=30)
    area = find_surge(late, old, rules=RULES)
    assert area is not None and "C0" not in area.call_ids and area.calls_in_window == 4


def test_calls_after_the_new_call_are_left_out() -> None:
    calls = crowd(6)
    area = find_surge(calls[1], calls, rules=RULES)  # a replay of the 2nd call
    assert area is None  # only C0 and C1 were known by then


def test_the_call_itself_among_recent_is_counted_once() -> None:
    calls = crowd(4)
    area = find_surge(calls[-1], calls, rules=RULES)
    assert area is not None and area.calls_in_window == 4


def test_ordinary_traffic_is_never_folded_in() -> None:
    ordinary = [
        IncidentType.FIRE,
        IncidentType.BUILDING_FIRE,
        IncidentType.TRAFFIC_COLLISION,
        IncidentType.HAZMAT,
        IncidentType.FLOOD,
        IncidentType.STRUCTURE_ALARM,
    ]
    assert not SURGE_TYPES & set(ordinary)
    others = [call(60 + i, s=i * 20.0, north=30, kind=kind) for i, kind in enumerate(ordinary)]
    two = [call(20, s=150, east=20), call(21, s=160, north=-20)]
    # six ordinary calls + two crowd calls nearby: not a surge, the others are not counted
    assert find_surge(two[1], [*others, two[0]], rules=RULES) is None
    crowd_calls = crowd(5)
    area = find_surge(crowd_calls[-1], [*others, *crowd_calls[:-1]], rules=RULES)
    assert area is not None and not {c.id for c in others} & set(area.call_ids)
    # an ordinary call in the middle of a surge is not part of it
    fire = call(30, s=200, kind=IncidentType.FIRE)
    assert find_surge(fire, crowd_calls, rules=RULES) is None


def test_one_number_calling_again_and_again_is_not_a_surge() -> None:
    calls = [call(i, s=i * 30.0, north=i * 10.0, caller="010-1111-2222") for i in range(6)]
    assert find_surge(calls[-1], calls[:-1], rules=RULES) is None
    # two numbers, three calls in a minute: still not three callers
    calls = [call(0, s=0), call(1, s=20, caller="010-0000-0000"), call(2, s=40)]
    assert find_surge(calls[-1], calls[:-1], rules=RULES) is None


def test_calls_without_a_number_count_each() -> None:
    calls = [call(i, s=i * 30.0, north=i * 15.0, caller=None) for i in range(3)]
    assert find_surge(calls[-1], calls[:-1], rules=RULES) is not None


def test_uncertainty_circles_reach_the_area() -> None:
    base = crowd(4)
    # 450 m from the alley: joins with a 200 m circle
    wide = call(10, s=170, north=450, u=200.0)
    area = find_surge(wide, base, rules=RULES)
    assert area is not None and "C10" in area.call_ids
    # 550 m with a 50 m circle: beyond the radius, its circle and the centre's own looseness
    narrow = call(10, s=170, north=550, u=50.0)
    assert find_surge(narrow, base, rules=RULES) is None
    # a cell-tower fix 2 km away: its 2000 m circle is counted only up to 300 m
    vague = call(11, s=170, north=2000, u=2000.0)
    assert find_surge(vague, base, rules=RULES) is None


def test_a_centre_from_few_calls_is_loose() -> None:
    """Three callers across some 500 m of alleys: the median of three is a loose centre, so
    the radius widens by their spread over the square root of their number."""
    spots = [(210.0, 140.0), (-60.0, -100.0), (-230.0, 40.0)]
    calls = [call(i, s=i * 60.0, north=n, east=e, u=50.0) for i, (n, e) in enumerate(spots)]
    area = find_surge(calls[-1], calls[:-1], rules=RULES)
    assert area is not None and len(area.call_ids) == 3


def test_one_caller_2_km_off_does_not_move_the_centre() -> None:
    calls = crowd(6)
    near = find_surge(calls[-1], calls[:-1], rules=RULES)
    assert near is not None
    stray = call(40, s=150, north=2000, u=300.0)
    far = call(41, s=160, east=550, u=300.0)  # a member (250 m circle edge), far out
    area = find_surge(calls[-1], [stray, far, *calls[:-1]], rules=RULES)
    assert area is not None and "C40" not in area.call_ids and "C41" in area.call_ids
    assert distance_m(area.lat, area.lon, near.lat, near.lon) < 40


def test_a_call_at_the_edge_finds_the_dense_part() -> None:
    calls = crowd(6)
    edge = call(50, s=230, east=-380, u=150.0)  # 380 m off the alley, circle reaches it
    area = find_surge(edge, calls, rules=RULES)
    assert area is not None and len(area.call_ids) == 7
    assert distance_m(area.lat, area.lon, LAT, LON) < 100


def test_a_vague_call_joins_the_dense_part_its_circle_reaches() -> None:
    dense = [call(i, s=i * 20.0, north=(i % 3) * 10.0) for i in range(6)]
    # 500 m off: nothing within 300 m of its own position, but its 250 m circle reaches the crowd
    vague = call(70, s=200, east=-500, u=250.0)
    area = find_surge(vague, dense, rules=RULES)
    assert area is not None and len(area.call_ids) == 7
    assert distance_m(area.lat, area.lon, LAT, LON) < 30


def test_two_separate_clusters_are_two_areas() -> None:
    here = crowd(5)
    there = [call(100 + i, s=i * 30.0, north=1500 + i * 10, east=200) for i in range(3)]
    area = find_surge(there[-1], [*here, *there[:-1]], rules=RULES)
    assert area is not None and set(area.call_ids) == {c.id for c in there}
    assert distance_m(area.lat, area.lon, *at(1510, 200)) < 60


def test_banner_and_reason() -> None:
    calls = crowd(7)
    area = find_surge(calls[-1], calls[:-1], rules=RULES)
    assert area is not None
    assert area.banner("이태원동") == "7 calls in 10 min at 이태원동"
    reason = surge_reason(area, distance_m=312.4, place="이태원동")
    assert reason.startswith(f"surge: 7 calls in 10 min within {area.radius_m:.0f} m of 이태원동")
    assert "(312 m from its centre)" in reason and "callers" in reason
    assert area.distance_m(area.lat, area.lon) == pytest.approx(0.0, abs=0.01)
    with pytest.raises(ContractError):
        surge_reason(area, distance_m=-1.0, place="x")


def test_bad_input_is_refused_with_the_field() -> None:
    good = crowd(3)
    naive = SurgeCall("N1", datetime(2022, 10, 29, 22, 15), LAT, LON, EMS)
    with pytest.raises(ContractError) as err:
        find_surge(naive, good, rules=RULES)
    assert err.value.field == "call.at"
    bad = SurgeCall("B1", T0, 95.0, LON, EMS)
    with pytest.raises(ContractError) as err:
        find_surge(good[0], [bad], rules=RULES)
    assert err.value.field == "recent[0].lat"
    with pytest.raises(ContractError):
        find_surge(SurgeCall("U", T0, LAT, LON, EMS, -5.0), good, rules=RULES)
    with pytest.raises(GoldenTimeError):
        SurgeRules(radius_m=0.0)
    with pytest.raises(ContractError):
        SurgeRules(min_calls=3, burst_calls=4)


def test_many_calls_stay_correct() -> None:
    """200 calls in 10 minutes around the alley (a peak of that night, many times over)."""
    calls = [
        call(i, s=i * 3.0, north=(i * 37) % 250 - 125, east=(i * 53) % 250 - 125, u=150.0)
        for i in range(200)
    ]
    area = find_surge(calls[-1], calls[:-1], rules=RULES)
    assert isinstance(area, SurgeArea) and area.calls_in_window == 200
    assert distance_m(area.lat, area.lon, LAT, LON) < 30


@settings(max_examples=150, deadline=None)
@given(
    spots=st.lists(
        st.tuples(
            st.floats(-500, 500),
            st.floats(-500, 500),
            st.sampled_from([None, 50.0, 300.0, 900.0]),
            st.integers(0, 5),
        ),
        min_size=2,
        max_size=14,
    ),
    order=st.randoms(use_true_random=False),
)
def test_the_answer_does_not_depend_on_the_order_or_redelivery_of_recent(
    spots: list[tuple[float, float, float | None, int]], order: random.Random
) -> None:
    calls = [
        call(i, s=i * 25.0, north=n, east=e, u=u, caller=f"010-{who}")
        for i, (n, e, u, who) in enumerate(spots)
    ]
    new, recent = calls[-1], calls[:-1]
    expected = find_surge(new, recent, rules=RULES)
    shuffled = [*recent, *recent[: len(recent) // 2], new]  # redelivered, and the call itself
    order.shuffle(shuffled)
    again = find_surge(new, shuffled, rules=RULES)
    if expected is None:
        assert again is None
    else:
        assert again is not None and again.call_ids == expected.call_ids
        assert again.calls_in_window == expected.calls_in_window
        assert distance_m(again.lat, again.lon, expected.lat, expected.lon) < 1.0
        assert new.id in expected.call_ids
