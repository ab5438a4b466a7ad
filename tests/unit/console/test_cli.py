"""`goldentime user add|token|list` against a throw-away database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from console.cli import user
from console.errors import AccountError


def test_add_list_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLDENTIME_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    args = ["add", "lee.crew", "--role", "crew", "--unit", "U-7", "--password", "pw-123456"]
    assert runner.invoke(user, args).output == "user lee.crew: crew, unit U-7\n"
    token = runner.invoke(user, ["token", "lee.crew"]).output.strip()
    assert token.startswith("gt_") and len(token) > 30
    assert runner.invoke(user, ["list"]).output == "lee.crew\tcrew unit=U-7\n"
    assert "revoked 1 token" in runner.invoke(user, ["token", "lee.crew", "--revoke"]).output
    again = runner.invoke(user, args)
    assert isinstance(again.exception, AccountError)
    assert "already exists" in str(again.exception)
