"""`goldentime chaos` options: fault kinds and the kill interval are checked before anything
starts; the periodic kill is on by default."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ops.commands.chaos import chaos
from ops.fault_drill import DrillError, parse_faults


def test_fault_kinds_are_parsed_in_order_and_unknown_ones_refused() -> None:
    assert parse_faults("worker, broker,database,console") == (
        "worker",
        "broker",
        "database",
        "console",
    )
    assert parse_faults("") == ()
    with pytest.raises(DrillError, match="fire"):
        parse_faults("worker,fire")


def test_kill_interval_is_zero_or_at_least_half_a_second() -> None:
    result = CliRunner().invoke(chaos, ["--kill-every", "0.2", "--events", "100"])
    assert result.exit_code == 2
    assert "--kill-every" in result.output


def test_help_shows_the_default_kill_interval() -> None:
    text = CliRunner().invoke(chaos, ["--help"]).output
    assert "default: 3.0" in text and "--faults" in text
