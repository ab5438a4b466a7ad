"""`goldentime place search|reverse|info`: the machine-readable interface."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ops.cli import cli, main


def test_search_json_is_the_exact_list() -> None:
    result = CliRunner().invoke(cli, ["place", "search", "강남 역", "--limit", "3", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert 1 <= len(found) <= 3
    assert [set(p) for p in found] == [{"name", "kind", "lat", "lon", "gu"}] * len(found)
    assert (found[0]["name"], found[0]["kind"], found[0]["gu"]) == ("강남역", "station", "강남구")


def test_bad_limit_exits_2_naming_the_option() -> None:
    result = CliRunner().invoke(cli, ["place", "search", "강남", "--limit", "0", "--json"])
    assert result.exit_code == 2
    assert "--limit" in result.output


def test_empty_text_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["place", "search", " ", "--json"])
    assert info.value.code == 2
    assert "empty" in capsys.readouterr().err


def test_reverse_json() -> None:
    result = CliRunner().invoke(cli, ["place", "reverse", "37.5663,126.9779", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert (body["gu"], body["dong"], body["intersection"]) == ("중구", "태평로1가", "서울시청")


def test_info_json() -> None:
    result = CliRunner().invoke(cli, ["place", "info", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["places"] > 10_000 and body["by_kind"]["gu"] == 25 and body["build_ms"] > 0
