"""The demo plays a surge scenario's crowd through the intake API (goldentime demo --scenario)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from console.app import CallRequest
from goldentime.errors import DataError
from ops.cli import cli
from ops.demo import crowd_scenario_calls


def test_the_crowd_crush_is_played_as_intake_calls_from_its_first_call() -> None:
    calls = crowd_scenario_calls("crowd-crush", run_id="t")
    assert len(calls) == 102  # 100 crowd calls and the fire and collision near them
    assert calls[0].offset_s == 0.0
    assert [c.offset_s for c in calls] == sorted(c.offset_s for c in calls)
    assert calls[-1].offset_s <= 75 * 60
    ids = [c.body["id"] for c in calls]
    assert len(set(ids)) == len(ids) and all(i.startswith("demo-t-") for i in ids)
    for item in calls:  # every body is a call the intake takes
        CallRequest.model_validate({**item.body, "received_at": datetime.now(UTC).isoformat()})
    crowd = [c.body for c in calls if "-crowd-" in c.body["id"]]
    assert len({b["caller"] for b in crowd}) == 80  # a fifth call again
    assert all(50 <= b["location_uncertainty_m"] <= 450 for b in crowd)
    assert crowd_scenario_calls("crowd-crush", run_id="t") == calls


def test_a_scenario_without_a_crowd_is_refused() -> None:
    with pytest.raises(DataError, match="surge-5x has no \\[crowd\\]"):
        crowd_scenario_calls("surge-5x", run_id="t")
    result = CliRunner().invoke(cli, ["demo", "--scenario", "surge-5x", "--url", "http://x"])
    assert result.exit_code == 2 and "surge-5x has no [crowd]" in result.output
    result = CliRunner().invoke(cli, ["up", "--scenario", "stampede"])
    assert result.exit_code == 2 and "unknown scenario 'stampede'" in result.output
