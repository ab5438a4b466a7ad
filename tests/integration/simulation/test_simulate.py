"""`goldentime simulate` end to end: the CLI, the JSON contract, the chart, the real system."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ops.commands.simulate import simulate

pytestmark = pytest.mark.integration

CONTRACT = (
    "incidents",
    "travel_within_5min_pct",
    "on_scene_within_7min_pct",
    "p90_response_s",
    "moveups",
)


def test_seoul_wide_hour_compares_all_policies_on_identical_calls(tmp_path: Path) -> None:
    chart = tmp_path / "sim.png"
    result = CliRunner().invoke(
        simulate,
        ["--network", "seoul", "--hours", "1", "--seed", "3", "--json", "--chart", str(chart)],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["nearest", "eta", "eta+moveup"]
    for figures in data.values():
        assert all(key in figures for key in CONTRACT)
        assert 0 <= figures["travel_within_5min_pct"] <= 100
        assert figures["p90_response_s"] >= figures["mean_response_s"] * 0.5
        by_gu = figures["by_gu"]
        assert len(by_gu) >= 20  # ~60 calls in the first hour, spread over the city
        assert all(0 <= g["on_scene_within_7min_pct"] <= 100 for g in by_gu.values())
        assert sum(g["incidents"] for g in by_gu.values()) == figures["incidents"]
        assert by_gu.get("강동구", {"on_network": False})["on_network"] is False
        assert "seoul_stdnodelink" in figures["network"]
        assert figures["seoul_published_fire_within_7min_pct"]["2020 H1"] == 92.6
    assert len({f["calls_fingerprint"] for f in data.values()}) == 1
    assert len({f["incidents"] for f in data.values()}) == 1 and data["eta"]["incidents"] > 30
    assert data["nearest"]["moveups"] == data["eta"]["moveups"] == 0
    assert chart.stat().st_size > 10_000 and chart.read_bytes()[:4] == b"\x89PNG"
    assert "[eta+moveup] 01:00" in result.stderr  # progress while it runs


def test_human_output_shows_published_figures_and_gu_table() -> None:
    result = CliRunner().invoke(
        simulate, ["--hours", "0.5", "--seed", "4", "--policy", "nearest,eta"]
    )
    assert result.exit_code == 0, result.output
    assert "Seoul published" in result.stdout and "92.6%" in result.stdout
    assert "종로구" in result.stdout and "worst gu under eta:" in result.stdout


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
