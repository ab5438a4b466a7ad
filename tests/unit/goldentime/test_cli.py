from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from goldentime import cli as cli_module
from ops.cli import cli, main


def test_help_lists_every_plugin_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("up", "call", "config", "route", "firemap", "alert", "video", "bench"):
        assert name in result.output


def test_config_json_has_env_and_description(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLDENTIME_CONSOLE_PORT", "8555")
    result = CliRunner().invoke(cli, ["config", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["console.port"]["value"] == 8555
    assert rows["console.port"]["env"] == "GOLDENTIME_CONSOLE_PORT"


def test_unavailable_plugin_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(cli.lazy, "ghost", "no_such_module:cmd")  # type: ignore[attr-defined]
    with pytest.raises(SystemExit) as info:
        main(["ghost"])
    assert info.value.code == 1
    assert "`ghost` is not available here" in capsys.readouterr().err


def test_golden_time_errors_become_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOLDENTIME_CONSOLE_PORT", "not-a-port")
    with pytest.raises(SystemExit) as info:
        main(["config"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "goldentime: error: invalid settings: console.port (GOLDENTIME_CONSOLE_PORT)"
    )
    assert "Traceback" not in err


def test_call_refused_by_validation_reports_the_field(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["call", "--lat", "37.5", "--lon", "126.9", "--type", "arson"])
    assert info.value.code == 2
    assert "arson" in capsys.readouterr().err


def test_call_to_unreachable_console_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(
            [
                "call",
                "--lat",
                "37.5",
                "--lon",
                "126.9",
                "--type",
                "fire",
                "--url",
                "http://127.0.0.1:9",
            ]
        )
    assert info.value.code == 2
    assert "cannot reach the console" in capsys.readouterr().err


def test_lazy_group_loads_only_on_use() -> None:
    group = cli_module.LazyGroup(name="g", lazy={"x": "ops.commands.system:config"})
    ctx = click.Context(group)
    assert group.list_commands(ctx) == ["x"]
    assert group.get_command(ctx, "x") is not None
