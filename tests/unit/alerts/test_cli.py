"""`goldentime alert ...` exit codes and outputs (the machine-readable contract)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from alerts.capvalidate import validate_document
from alerts.cli import alert
from goldentime.settings import load_settings

CAP_DIR = load_settings().data.seoul_dir / "cap"


@pytest.mark.parametrize(
    ("name", "code"),
    [("thunderstorm.cap", 0), ("earthquake.cap", 0), ("invalid.cap", 1), ("xee.cap", 2)],
)
def test_validate_exit_codes(name: str, code: int) -> None:
    result = CliRunner().invoke(alert, ["validate", str(CAP_DIR / name)])
    assert result.exit_code == code, result.output
    if code == 1:
        assert "scope" in result.output


def test_validate_unreadable_file(tmp_path: Path) -> None:
    assert CliRunner().invoke(alert, ["validate", str(tmp_path / "none.cap")]).exit_code == 2


def test_draft_prints_valid_cap_xml() -> None:
    result = CliRunner().invoke(
        alert,
        [
            "draft",
            "--event",
            "화재 연기",
            "--headline",
            "종로구 화재",
            "--gu",
            "Jongno",
            "--lang",
            "ko,en",
            "--xml",
        ],
    )
    assert result.exit_code == 0, result.output
    report = validate_document(result.output.encode())
    assert report.publishable and report.alert is not None
    assert report.alert.infos[0].areas[0].area_desc == "종로구"


def test_approve_and_cancel_act_on_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    drafted = runner.invoke(
        alert,
        [
            "draft",
            "--event",
            "화재 연기",
            "--headline",
            "종로구 화재",
            "--gu",
            "종로구",
            "--save",
            "--user",
            "alice",
        ],
    )
    assert drafted.exit_code == 0, drafted.output
    alert_id = drafted.stderr.split()[1]
    own = runner.invoke(alert, ["approve", alert_id, "--user", "alice"])
    assert own.exit_code != 0 and "two-person" in str(own.exception)
    ok = runner.invoke(alert, ["approve", alert_id, "--user", "bob"])
    assert ok.exit_code == 0 and "published by bob" in ok.output
    cancelled = runner.invoke(alert, ["cancel", alert_id, "--user", "bob"])
    assert cancelled.exit_code == 0 and f"Cancel referencing {alert_id}" in cancelled.output
