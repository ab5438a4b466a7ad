"""Dispatch commands of the CLI: the golden-time report."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import click

from dispatch.report import golden_time_report
from goldentime.db import create_schema, engine_for, session_factory
from goldentime.errors import GoldenTimeError
from goldentime.settings import load_settings

_RELATIVE = re.compile(r"^(\d+)([hd])$")


def parse_since(value: str | None) -> datetime | None:
    """``24h``, ``7d`` or an ISO timestamp with an offset."""
    if not value:
        return None
    if match := _RELATIVE.match(value):
        amount, unit = int(match[1]), match[2]
        return datetime.now(UTC) - timedelta(hours=amount if unit == "h" else 24 * amount)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as err:
        raise GoldenTimeError(f"--since {value!r}: use 24h, 7d or an ISO time") from err
    if parsed.tzinfo is None:
        raise GoldenTimeError(f"--since {value!r}: give a timezone offset, e.g. +09:00")
    return parsed


def _fmt(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return "-"
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


@click.command()
@click.option("--since", default=None, help="24h, 7d or an ISO time (default: everything).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def report(since: str | None, as_json: bool) -> None:
    """Golden-time report: intervals per incident, compliance overall and per gu."""
    engine = engine_for(load_settings())
    create_schema(engine)  # checks that the database is of this version
    with session_factory(engine)() as session:
        data = golden_time_report(session, since=parse_since(since))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    overall = data["overall"]
    click.echo(
        f"incidents {overall['incidents']}, arrived {overall['arrived']}, within 7 min "
        f"{overall['within_7min']} ({overall['within_7min_pct']}%), mean "
        f"{_fmt(overall['mean_call_to_scene_s'])}, p90 {_fmt(overall['p90_call_to_scene_s'])}"
    )
    for gu, share in data["by_gu"].items():
        click.echo(
            f"  {gu}: {share['arrived']}/{share['incidents']} arrived, "
            f"{share['within_7min_pct']}% within 7 min"
        )
    click.echo("incident           type              process turnout travel  total  7min")
    for row in data["incidents"]:
        ok = {True: "yes", False: "NO", None: "-"}[row["within_golden_time"]]
        click.echo(
            f"{row['incident_id']:<18} {row['type']:<17} {_fmt(row['processing_s']):>7} "
            f"{_fmt(row['turnout_s']):>7} {_fmt(row['travel_s']):>6} "
            f"{_fmt(row['call_to_scene_s']):>6}  {ok}"
        )
