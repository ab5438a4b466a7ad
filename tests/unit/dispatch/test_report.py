from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from dispatch.cli import parse_since
from dispatch.incident_store import IncidentRow
from dispatch.report import golden_time_report
from goldentime.db import create_schema, make_engine, session_factory
from goldentime.errors import GoldenTimeError
from ops.cli import cli

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def row(
    id_: str,
    gu: str,
    *,
    scene_after: float | None,
    dispatched_after: float = 60,
    en_route_after: float = 120,
) -> IncidentRow:
    def at(s: float | None) -> datetime | None:
        return None if s is None else T0 + timedelta(seconds=s)

    return IncidentRow(
        id=id_,
        type="building_fire",
        status="on_scene" if scene_after else "dispatched",
        lat=37.57,
        lon=126.98,
        description="",
        created_at=T0,
        updated_at=T0,
        revision=1,
        priority=1,
        gu=gu,
        cell="",
        last_activity_at=T0,
        dispatched_at=at(dispatched_after),
        en_route_at=at(en_route_after),
        on_scene_at=at(scene_after),
    )


def test_intervals_and_compliance_overall_and_per_gu(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    create_schema(engine)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        s.add_all(
            [
                row("A", "종로구", scene_after=400),
                row("B", "종로구", scene_after=430),
                row("C", "중구", scene_after=300),
                row("D", "중구", scene_after=None),
            ]
        )
    with sessions() as s:
        report = golden_time_report(s)
    assert report["overall"]["arrived"] == 3 and report["overall"]["within_7min"] == 2
    assert report["overall"]["within_7min_pct"] == pytest.approx(66.7)
    assert report["by_gu"]["종로구"]["within_7min_pct"] == 50.0
    assert report["by_gu"]["중구"]["within_7min_pct"] == 100.0
    assert report["pending"] == ["D"]
    a = next(i for i in report["incidents"] if i["incident_id"] == "A")
    assert (a["processing_s"], a["turnout_s"], a["travel_s"], a["call_to_scene_s"]) == (
        60.0,
        60.0,
        280.0,
        400.0,
    )


def test_report_cli_on_a_fresh_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLDENTIME_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["report", "--since", "24h"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("incidents 0, arrived 0")


def test_since_parsing() -> None:
    assert parse_since("2026-11-26T09:00:00+09:00") == T0 - timedelta(hours=1)
    assert parse_since(None) is None
    with pytest.raises(GoldenTimeError, match="timezone"):
        parse_since("2026-11-26T09:00:00")
    with pytest.raises(GoldenTimeError, match="24h"):
        parse_since("yesterday")
