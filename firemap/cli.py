"""`goldentime firemap ...`: near, layers, import.

The commands read the safety map from the loader the composing caller hands to
:func:`firemap_group` (``ops.commands.firemap``: the map with road access on the configured
network, which firemap cannot load itself without importing routing).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from firemap.catalog import LAYERS
from firemap.errors import FiremapDataError, FiremapQueryError
from firemap.geojson import layer_geojson, layer_names
from firemap.layers import load_layer
from firemap.safety_map import SafetyMap
from goldentime.geo import parse_latlon


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _parse_point(text: str) -> tuple[float, float]:
    try:
        return parse_latlon(text)
    except ValueError as err:
        raise FiremapQueryError(str(err), field="point") from err


@dataclass(frozen=True)
class MapSource:
    """How the commands get the safety map (set on the group's context by :func:`firemap_group`)."""

    load: Callable[[], SafetyMap]


def _safety_map() -> SafetyMap:
    source = click.get_current_context().find_object(MapSource)
    if source is None:  # a command run outside firemap_group: a wiring error, not user input
        raise RuntimeError("firemap commands need the group made by firemap_group()")
    return source.load()


@click.command()
@click.argument("point", metavar="LAT,LON")
@click.option(
    "--radius",
    "radius_m",
    type=float,
    default=200.0,
    show_default=True,
    help="Search radius in metres.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable object.")
def near(point: str, radius_m: float, as_json: bool) -> None:
    """What is near LAT,LON: hydrants, devices, hazards, access per vehicle, station."""
    lat, lon = _parse_point(point)
    result = _safety_map().near(lat, lon, radius_m=radius_m)
    if as_json:
        _echo_json(result.to_dict())
        return
    station = result.station
    click.echo(f"{result.gu or '?'} {result.dong or '?'} (legal: {result.legal_dong or '?'})")
    if station:
        click.echo(
            f"station: {station.centre} ({station.distance_m:.0f} m), {station.fire_station}"
        )
    click.echo(f"working hydrants within {radius_m:.0f} m: {len(result.hydrants)}")
    for h in result.hydrants[:5]:
        click.echo(f"  {h.distance_m:6.0f} m  {h.kind} {h.form} {h.state}  {h.address or ''}")
    click.echo(f"emergency fire devices: {len(result.devices)}")
    for z in result.hazards:
        click.echo(f"  hazard {z.severity}: {z.detail} ({z.distance_m:.0f} m)")
    for r in result.restrictions:
        click.echo(f"  {r.vehicle:9} {r.access:13} {r.message}")
    for e in result.emergency_rooms:
        click.echo(f"  ER {e.name} ({e.er_class}) {e.distance_m / 1000:.1f} km  {e.er_phone}")
    for note in result.coverage:
        click.echo(f"note: {note}")


@click.command()
@click.option("--geojson", "geojson_name", metavar="NAME", help="Print one layer as GeoJSON.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def layers(geojson_name: str | None, as_json: bool) -> None:
    """List the loaded layers (count, rejects, attribution), or print one as GeoJSON."""
    safety_map = _safety_map()
    if geojson_name:
        try:
            _echo_json(layer_geojson(safety_map, geojson_name))
        except KeyError as err:
            raise FiremapQueryError(str(err.args[0]), field="layer") from None
        return
    rows = []
    for name in layer_names(safety_map):
        doc = layer_geojson(safety_map, name)
        loaded = safety_map.loaded.get(name)
        rows.append(
            {
                "name": name,
                "title": doc["title"],
                "features": len(doc["features"]),
                "rejects": len(loaded.rejects) if loaded else 0,
                "attribution": doc["attribution"],
            }
        )
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        click.echo(
            f"{row['name']:16} {row['features']:6} features  {row['rejects']} rejects  "
            f"{row['title']}  [{row['attribution']}]"
        )


@click.command(name="import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--layer",
    "layer_name",
    required=True,
    type=click.Choice(sorted(LAYERS)),
    help="Which layer the file holds (decides the expected columns and CRS).",
)
@click.option("--lenient", is_flag=True, help="Load the good rows and list the rejects.")
@click.option("--crs", default=None, help="CRS of the x/y columns if not the layer's usual one.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_(file: Path, layer_name: str, lenient: bool, crs: str | None, as_json: bool) -> None:
    """Validate FILE (CSV or GeoJSON) as layer NAME and report; exit 1 if rows were rejected."""
    loaded = load_layer(LAYERS[layer_name], file, lenient=lenient, crs=crs)
    report = {
        "file": str(file),
        "layer": layer_name,
        "encoding": loaded.encoding,
        "crs": loaded.crs,
        "loaded": len(loaded.features),
        "rejected": len(loaded.rejects),
        "rejects": [{"line": r.line, "field": r.field, "reason": r.reason} for r in loaded.rejects],
    }
    if as_json:
        _echo_json(report)
    else:
        click.echo(
            f"{file}: {report['loaded']} features loaded as {layer_name} "
            f"({loaded.encoding}, {loaded.crs}), {report['rejected']} rejected"
        )
        for reject in loaded.rejects:
            click.echo(f"  rejected: {reject}")
    if loaded.rejects:
        raise SystemExit(1)


def firemap_group(*, safety_map: Callable[[], SafetyMap]) -> click.Group:
    """The `firemap` command group; ``safety_map`` loads the map ``near`` and ``layers`` read."""

    @click.group(name="firemap")
    @click.pass_context
    def firemap(ctx: click.Context) -> None:
        """Firefighting safety map: hydrants, devices, no-access zones, hazards near a place."""
        ctx.obj = MapSource(safety_map)

    for command in (near, layers, import_):
        firemap.add_command(command)
    return firemap


__all__ = ["FiremapDataError", "MapSource", "firemap_group"]
