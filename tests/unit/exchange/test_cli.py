"""`goldentime eido validate FILE`: 0 valid, 1 invalid (path and rule), 2 unreadable input or no
schema configured (saying where to get it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.eido import SAMPLE, SCHEMA_DIR


class Result:
    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.exit_code = done.returncode
        self.output = done.stdout + done.stderr


class Runner:
    """The real `goldentime` command in a child process (exit codes are the contract)."""

    def __init__(self, schema_dir: Path | None) -> None:
        self.env = {k: v for k, v in os.environ.items() if k != "GOLDENTIME_EIDO_SCHEMA_DIR"}
        if schema_dir is not None:
            self.env["GOLDENTIME_EIDO_SCHEMA_DIR"] = str(schema_dir)

    def invoke(self, args: list[str]) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "goldentime", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return Result(done)


@pytest.fixture
def runner() -> Runner:
    return Runner(SCHEMA_DIR)


def test_the_nena_sample_is_valid(runner: Runner) -> None:
    result = runner.invoke(["eido", "validate", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_an_invalid_document_names_path_and_rule(runner: Runner, tmp_path: Path) -> None:
    document = json.loads(SAMPLE.read_text(encoding="utf-8"))
    document["callComponent"][0]["direction"] = "sideways"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(["eido", "validate", str(path)])
    assert result.exit_code == 1
    assert "$.callComponent[0].direction: enum:" in result.output
    as_json = runner.invoke(["eido", "validate", str(path), "--json"])
    report = json.loads(as_json.output)
    assert as_json.exit_code == 1 and report["valid"] is False
    assert report["errors"][0]["path"] == "$.callComponent[0].direction"
    assert any("minItems" in n for n in report["normalised"])


@pytest.mark.parametrize("content", [None, "{not json", b"\xff\xfe"])
def test_unreadable_input_exits_2(
    runner: Runner, tmp_path: Path, content: str | bytes | None
) -> None:
    path = tmp_path / "input.json"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    result = runner.invoke(["eido", "validate", str(path)])
    assert result.exit_code == 2
    assert "cannot read a JSON document" in result.output


def test_without_a_schema_it_says_where_to_get_it() -> None:
    result = Runner(None).invoke(["eido", "validate", str(SAMPLE)])
    assert result.exit_code == 2
    assert "GOLDENTIME_EIDO_SCHEMA_DIR" in result.output
    assert "github.com/NENA911/EIDO-JSON" in result.output
