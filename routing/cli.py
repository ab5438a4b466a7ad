"""`goldentime route`, `goldentime eta` and `goldentime coverage`.

Errors are RoutingError (a GoldenTimeError): `goldentime` prints one line and exits 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from routing.compiled import METRICS
from routing.errors import RoutingError
from routing.fire_units import load_fire_units, read_units
from routing.loading import NETWORK_NAMES, load_network
from routing.network import RoadNetwork
from routing.speeds import VEHICLE_CLASSES


def _latlon(_ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        lat_s, lon_s = value.split(",")
        return float(lat_s), float(lon_s)
    except ValueError as err:
        raise click.BadParameter(f"expected LAT,LON (e.g. 37.5547,126.9707), got {value!r}",
                                 param=param) from err  # fmt: skip


_graph_option = click.option(
    "--graph", "graph_path", type=click.Path(path_type=Path), default=None,
    help="Road network: GraphML, .osm/.osm.pbf, MOCT shapefiles, a standard node-link or "
    "compiled directory (default: the configured network).",
)  # fmt: skip
_network_option = click.option(
    "--network", "network_name", type=click.Choice(NETWORK_NAMES), default=None,
    help="Named network: seoul (standard node-link, whole city) or central (OSM detail).",
)  # fmt: skip


def _load(network_name: str | None, graph_path: Path | None) -> RoadNetwork:
    if network_name is not None and graph_path is not None:
        raise RoutingError("give --network or --graph, not both")
    return load_network(graph_path, network=network_name)


_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _units(net: RoadNetwork, units_path: Path | None) -> list[Any]:
    if units_path is None:
        # Every station the network serves, those off its roads by an approach leg (강동구 on
        # the Seoul network, the stations around the central graph).
        units = load_fire_units(inside=net, approach_m=None)
        if not units:
            raise RoutingError("no fire units lie inside this graph's area; pass --units FILE")
        return units
    return read_units(units_path)


def _echo(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


@click.command()
@click.option("--from", "origin", required=True, callback=_latlon, help="Start LAT,LON.")
@click.option("--to", "destination", required=True, callback=_latlon, help="End LAT,LON.")
@_graph_option
@_network_option
@click.option("--vehicle", type=click.Choice(VEHICLE_CLASSES), default="engine", show_default=True)
@click.option("--metric", type=click.Choice(METRICS), default="time", show_default=True)
@click.option("--alternative", is_flag=True, help="Also give a route avoiding the busiest segment.")
@_json_option
def route(
    origin: tuple[float, float],
    destination: tuple[float, float],
    graph_path: Path | None,
    network_name: str | None,
    vehicle: str,
    metric: str,
    alternative: bool,
    as_json: bool,
) -> None:
    """Route between two points: ETA, distance, geometry and street names."""
    net = _load(network_name, graph_path)
    result = net.route(origin, destination, vehicle=vehicle, metric=metric)
    alt = net.alternative_route(result) if alternative else None
    if as_json:
        data = result.to_json()
        if alternative:
            data["alternative"] = alt.to_json() if alt else None
        _echo(data)
        return
    click.echo(f"{result.eta_s / 60:.1f} min, {result.distance_m / 1000:.2f} km ({vehicle}, "
               f"by {metric}): {' → '.join(result.streets) or '(unnamed roads)'}")  # fmt: skip
    if alt is not None:
        click.echo(f"alternative: {alt.eta_s / 60:.1f} min, {alt.distance_m / 1000:.2f} km "
                   f"avoiding edge {alt.avoided_edge}: {' → '.join(alt.streets)}")  # fmt: skip


@click.command()
@click.option("--incident", required=True, callback=_latlon, help="Incident LAT,LON.")
@click.option("--units", "units_path", type=click.Path(path_type=Path), default=None,
              help="Units CSV (default: the Seoul fire units the network serves).")  # fmt: skip
@_graph_option
@_network_option
@click.option("--cutoff", "cutoff_s", type=float, default=900.0, show_default=True,
              help="Search cutoff, seconds.")  # fmt: skip
@click.option("--top", "top_n", type=int, default=3, show_default=True,
              help="Routes for the N fastest units.")  # fmt: skip
@click.option("--golden-minutes", type=float, default=5.0, show_default=True,
              help="Travel-time golden time used for the `in_golden_time` flag.")  # fmt: skip
@_json_option
def eta(
    incident: tuple[float, float],
    units_path: Path | None,
    graph_path: Path | None,
    network_name: str | None,
    cutoff_s: float,
    top_n: int,
    golden_minutes: float,
    as_json: bool,
) -> None:
    """Every unit's ETA to an incident, fastest first (one reverse search)."""
    net = _load(network_name, graph_path)
    units = _units(net, units_path)
    names = {u.unit_id: u.name for u in units}
    ranked = net.etas(incident, units, cutoff_s=cutoff_s, top_n_routes=top_n)
    rows = []
    for item in ranked:
        row = item.to_json()
        row["name"] = names.get(item.unit_id, "")
        row["in_golden_time"] = item.eta_s is not None and item.eta_s <= golden_minutes * 60
        rows.append(row)
    if as_json:
        _echo({"incident": list(incident), "cutoff_s": cutoff_s, "units": rows})
        return
    for row in rows:
        when = "—" if row["eta_s"] is None else f"{row['eta_s'] / 60:5.1f} min"
        flag = "✓" if row["in_golden_time"] else " "
        click.echo(f"{row['rank']:3d} {flag} {when:>9}  {row['unit_id']} {row['name']} "
                   f"({row['vehicle']}){'  ' + row['note'] if row['note'] else ''}")  # fmt: skip


@click.command()
@click.option("--minutes", type=float, default=5.0, show_default=True, help="Travel time T.")
@click.option("--units", "units_path", type=click.Path(path_type=Path), default=None,
              help="Units CSV (default: the Seoul fire units the network serves).")  # fmt: skip
@_graph_option
@_network_option
@click.option("--vehicle", type=click.Choice(VEHICLE_CLASSES), default="engine", show_default=True)
@click.option("--busy", multiple=True, help="Unit id that is busy (repeatable).")
@click.option("--holes", is_flag=True, help="Include the uncovered roads as GeoJSON.")
@click.option("--move-up", "move_ups", type=int, default=0, show_default=True,
              help="Suggest up to N greedy move-ups (to the units' home stations).")  # fmt: skip
@_json_option
def coverage(
    minutes: float,
    units_path: Path | None,
    graph_path: Path | None,
    network_name: str | None,
    vehicle: str,
    busy: tuple[str, ...],
    holes: bool,
    move_ups: int,
    as_json: bool,
) -> None:
    """Share of road length reachable within T minutes from the available units."""
    net = _load(network_name, graph_path)
    units = _units(net, units_path)
    model = net.coverage(units, minutes=minutes, vehicle=vehicle)
    for unit_id in busy:
        model.set_available(unit_id, False)
    data = model.summary()
    if move_ups:
        data["move_up"] = [m.to_json() for m in model.suggest_move_up(units, max_moves=move_ups)]
    if holes:
        data["holes"] = model.holes_geojson()
    if as_json:
        _echo(data)
        return
    share, km = data["covered_share"] * 100, data["total_length_m"] / 1000
    click.echo(f"{share:.1f}% of {km:.1f} km of road within {minutes:g} min "
               f"of {data['units_available']} available unit(s)")  # fmt: skip
    for move in data.get("move_up", []):
        click.echo(f"move {move['unit_id']} to {move['station_name']}: +{move['gain_m']:.0f} m")
