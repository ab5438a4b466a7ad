"""The per-policy summary."""

from __future__ import annotations

from dataclasses import replace

from simulation.results import Outcome, summarise, window_summary


def outcome(n: int, travel: float, on_scene: float, gu: str = "중구") -> Outcome:
    return Outcome(f"c{n}", "ems", 0.0, 50.0, "u", "ambulance", travel, on_scene, 1, gu=gu)


def test_percentages_percentiles_and_unserved() -> None:
    outcomes = [outcome(n, 100.0 + 30 * n, 220.0 + 30 * n) for n in range(10)]  # 100..370
    figures = summarise(outcomes, moveups=2, move_backs=1, coverage={}, unserved=0)
    assert figures["incidents"] == 10
    assert figures["travel_within_5min_pct"] == 70.0  # 100..280 of 100..370
    assert figures["on_scene_within_7min_pct"] == 70.0  # 220..400 <= 420
    assert figures["p90_response_s"] == 463.0
    assert figures["mean_response_s"] == 355.0
    assert figures["moveups"] == 2
    assert figures["fires_on_scene_within_7min_pct"] is None  # no fire among them
    with_unserved = summarise(outcomes, moveups=0, move_backs=0, coverage={}, unserved=10)
    assert with_unserved["incidents"] == 20
    assert with_unserved["travel_within_5min_pct"] == 35.0


def test_by_gu_counts_each_gu_and_its_unserved_calls() -> None:
    outcomes = [outcome(0, 100.0, 200.0, "중구"), outcome(1, 400.0, 500.0, "중구")]
    outcomes.append(outcome(2, 600.0, 700.0, "강동구"))
    figures = summarise(
        outcomes,
        moveups=0,
        move_backs=0,
        coverage={},
        unserved=1,
        unserved_gu=["종로구"],
        off_network_gu={"강동구"},
    )
    by_gu = figures["by_gu"]
    assert list(by_gu) == sorted(by_gu) == ["강동구", "종로구", "중구"]
    assert by_gu["중구"]["incidents"] == 2 and by_gu["중구"]["on_scene_within_7min_pct"] == 50.0
    assert by_gu["종로구"] == {**by_gu["종로구"], "incidents": 1, "on_scene_within_7min_pct": 0.0}
    assert by_gu["강동구"]["on_network"] is False and by_gu["중구"]["on_network"] is True
    assert by_gu["중구"]["p90_response_s"] == 470.0


def test_window_waits_are_over_the_calls_that_waited() -> None:
    waits = [0.0, 0.0, 600.0, 1200.0, 0.0]
    outcomes = [replace(outcome(n, 100.0, 200.0), queued_s=q) for n, q in enumerate(waits)]
    times = {f"c{n}": 10.0 * n for n in range(5)} | {"late": 999.0}
    w = window_summary(times, outcomes, start_s=0.0, end_s=100.0)
    assert w["incidents"] == 5 and w["dispatch_delayed"] == 2
    assert w["mean_queued_s"] == 360.0  # over every call
    assert w["queued_mean_wait_s"] == 900.0  # over the two that waited
    assert w["queued_p90_wait_s"] == 1140.0
    empty = window_summary(times, outcomes[:2], start_s=0.0, end_s=20.0)
    assert empty["queued_mean_wait_s"] is None and empty["queued_p90_wait_s"] is None
