"""`goldentime simulate` end to end: the CLI, the JSON contract, the chart, the real system."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulation.cli import simulate

pytestmark = pytest.mark.integration

CONTRACT = (
    "incidents",
    "travel_within_5min_pct",
    "on_scene_within_7min_pct",
    "p90_response_s",
    "moveups",
)


def test_two_hours_compare_all_policies_on_identical_calls(tmp_path: Path) -> None:
    chart = tmp_path / "sim.png"
    result = CliRunner().invoke(
        simulate,
        ["--hours", "2", "--calls-per-day", "1500", "--seed", "5", "--json", "--chart", str(chart)],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["nearest", "eta", "eta+moveup"]
    for figures in data.values():
        assert all(key in figures for key in CONTRACT)
        assert 0 <= figures["travel_within_5min_pct"] <= 100
        assert figures["p90_response_s"] >= figures["mean_response_s"] * 0.5
    assert len({f["calls_fingerprint"] for f in data.values()}) == 1
    assert len({f["incidents"] for f in data.values()}) == 1 and data["eta"]["incidents"] > 5
    assert data["nearest"]["moveups"] == data["eta"]["moveups"] == 0
    assert chart.stat().st_size > 10_000 and chart.read_bytes()[:4] == b"\x89PNG"
    assert "[eta+moveup] 01:00" in result.stderr  # progress while it runs


def test_unknown_policy_is_a_usage_error() -> None:
    result = CliRunner().invoke(simulate, ["--policy", "fastest", "--hours", "1"])
    assert result.exit_code != 0
    assert "unknown policy fastest" in str(result.exception)


def test_through_the_real_system(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        simulate,
        [
            "--hours",
            "0.25",
            "--speed",
            "120",
            "--calls-per-day",
            "2000",
            "--seed",
            "3",
            "--policy",
            "eta",
            "--through-system",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    figures = data["eta"]
    assert all(key in figures for key in CONTRACT)
    system = figures["system"]
    assert system["call_to_recommendation_wall_s"]["n"] == figures["incidents"] > 0
    assert system["dispatch_command_wall_s"]["n"] >= figures["incidents"] - figures["unserved"]
    assert figures["unserved"] == 0
