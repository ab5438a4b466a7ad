"""`goldentime place ...`: search the gazetteer, reverse-geocode a point, describe the build."""

from __future__ import annotations

import json
from typing import Any

import click

import places
from goldentime.geo import parse_latlon
from places.errors import PlaceQueryError


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _parse_point(text: str) -> tuple[float, float]:
    try:
        return parse_latlon(text)
    except ValueError as err:
        raise PlaceQueryError(str(err), field="point") from err


@click.group()
def place() -> None:
    """Where is the caller? The Seoul gazetteer and reverse geocoding."""


@place.command()
@click.argument("text")
@click.option(
    "--limit",
    type=click.IntRange(1, places.MAX_LIMIT),
    default=10,
    show_default=True,
    help="At most this many places.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable list.")
def search(text: str, limit: int, as_json: bool) -> None:
    """Places matching TEXT (a name, part of one, or with typos), best first.

    --json prints a list of {name, kind, lat, lon, gu}.
    """
    found = places.search(text, limit=limit)
    if as_json:
        _echo_json([p.as_json() for p in found])
        return
    if not found:
        click.echo(f"no place matches {text!r}")
    for p in found:
        click.echo(f"{p.name}\t{p.kind}\t{p.gu or '-'}\t{p.lat:.6f},{p.lon:.6f}")


@place.command()
@click.argument("point", metavar="LAT,LON")
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable object.")
def reverse(point: str, as_json: bool) -> None:
    """Gu, dong, nearest named intersection and road of LAT,LON."""
    lat, lon = _parse_point(point)
    found = places.reverse(lat, lon)
    if as_json:
        _echo_json(found.as_json())
        return
    click.echo(found.label or "outside the known area")


@place.command()
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable object.")
def info(as_json: bool) -> None:
    """Size of the gazetteer by kind, and how long it took to build."""
    built = places.atlas()
    counts = built.gazetteer.counts()
    body: dict[str, Any] = {
        "places": len(built.gazetteer),
        "keys": built.gazetteer.key_count,
        "by_kind": counts,
        "build_ms": round(built.build_ms, 1),
    }
    if as_json:
        _echo_json(body)
        return
    click.echo(f"{body['places']} places ({body['keys']} keys), built in {body['build_ms']} ms")
    for kind, count in counts.items():
        click.echo(f"  {kind}: {count}")
