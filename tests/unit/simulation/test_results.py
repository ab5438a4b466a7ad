"""The per-policy summary."""

from __future__ import annotations

from simulation.results import Outcome, summarise


def outcome(n: int, travel: float, on_scene: float) -> Outcome:
    return Outcome(f"c{n}", "ems", 0.0, 50.0, "u", "ambulance", travel, on_scene, 1)


def test_percentages_percentiles_and_unserved() -> None:
    outcomes = [outcome(n, 100.0 + 30 * n, 220.0 + 30 * n) for n in range(10)]  # 100..370
    figures = summarise(outcomes, moveups=2, move_backs=1, coverage={}, unserved=0)
    assert figures["incidents"] == 10
    assert figures["travel_within_5min_pct"] == 70.0  # 100..280 of 100..370
    assert figures["on_scene_within_7min_pct"] == 70.0  # 220..400 <= 420
    assert figures["p90_response_s"] == 463.0
    assert figures["mean_response_s"] == 355.0
    assert figures["moveups"] == 2
    with_unserved = summarise(outcomes, moveups=0, move_backs=0, coverage={}, unserved=10)
    assert with_unserved["incidents"] == 20
    assert with_unserved["travel_within_5min_pct"] == 35.0
