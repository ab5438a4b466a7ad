"""``goldentime call``: the intake command as before, plus ``call media-link CALL_ID``."""

from __future__ import annotations

from click.testing import CliRunner

from goldentime.errors import GoldenTimeError
from ops.cli import cli


def test_call_still_takes_calls_and_has_media_link() -> None:
    runner = CliRunner()
    intake = runner.invoke(cli, ["call", "--help"])
    assert intake.exit_code == 0 and "--lat" in intake.output and "media-link" in intake.output
    link = runner.invoke(cli, ["call", "media-link", "--help"])
    assert link.exit_code == 0 and "CALL_ID" in link.output and "--json" in link.output
    missing = runner.invoke(cli, ["call", "--lon", "126.9"])
    assert missing.exit_code == 2 and "--lat" in missing.output


def test_media_link_names_an_unreachable_console() -> None:
    result = CliRunner().invoke(
        cli, ["call", "media-link", "call-1", "--url", "http://127.0.0.1:9", "--json"]
    )
    assert isinstance(result.exception, GoldenTimeError)
    assert "cannot reach the console" in str(result.exception)
