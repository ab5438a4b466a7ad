"""Routing benchmark: ETA of all units, full/incremental coverage, route; vs plain networkx.

Graphs: a deterministic Seoul-size road-like graph (``routing.synthetic``, ~100k nodes,
~250k arcs, weights in seconds) and the shipped central-Seoul graph. Every figure is the
median / p95 in ms, with ``networkx_ratio`` = networkx median / ours, both measured here on
the same weights. `goldentime bench routing --json` prints the machine-readable object (the
top level is the ~100k graph; ``seoul_central`` holds the same figures for the real central
graph; ``seoul_wide`` for the whole-city standard node-link network with every vehicle of every
station, plus its load times from CSV and from the compiled directory).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import click
import networkx as nx
import numpy as np

from bench._stats import summary, time_calls
from routing import CoverageModel, RoadNetwork, UnitPosition, load_network
from routing.approach_legs import Approach
from routing.compiled_files import write_compiled
from routing.fire_units import load_fire_units
from routing.loading import named_network_path, read_network_graph
from routing.reference import weighted_digraph
from routing.synthetic import road_like_graph

ETA_CUTOFF_S = 420.0  # golden time: 7 minutes (2 call taking + 5 travel)
COVERAGE_MINUTES = 5.0


def _random_points(
    net: RoadNetwork, count: int, rng: np.random.Generator
) -> list[tuple[float, float]]:
    nodes = rng.choice(net.compiled.node_ids, size=count, replace=False)
    pts = []
    for n in nodes:
        d = net.graph.nodes[int(n)]
        pts.append((d["y"] + rng.uniform(-2e-4, 2e-4), d["x"] + rng.uniform(-2e-4, 2e-4)))
    return pts


def _heads(net: RoadNetwork, point: tuple[float, float], *, leave: bool) -> list[int]:
    anchor = net.endpoint(point, vehicle="engine")
    if isinstance(anchor, Approach):  # off the graph (강동구 on the Seoul network)
        return [int(n) for n in anchor.nodes[:8]]
    weights = net.compiled.weights("engine").arc_weights
    options = (
        anchor.departures(net.compiled, weights)
        if leave
        else anchor.arrivals(net.compiled, weights)
    )
    return [node for node, _cost, _arc in options]


def _all_available(model: CoverageModel, unit_ids: list[str]) -> None:
    for unit_id in unit_ids:
        model.set_available(unit_id, True)


def _with_paths(net: RoadNetwork, incident: tuple[float, float], units: list[UnitPosition]) -> None:
    for item in net.etas(incident, units, cutoff_s=ETA_CUTOFF_S):
        _ = (item.distance_m, item.route)


def measure(
    net: RoadNetwork, units: list[UnitPosition], *, rounds: int, seed: int
) -> dict[str, Any]:
    """All figures for one network."""
    rng = np.random.default_rng(seed)
    graph = weighted_digraph(net, "engine")
    reverse = graph.reverse(copy=True)
    incidents = _random_points(net, rounds, rng)
    for u in units:  # warm the snap cache (units are at known positions)
        net.endpoint((u.lat, u.lon), vehicle=u.vehicle)
    unit_heads = [h for u in units for h in _heads(net, (u.lat, u.lon), leave=True)]

    ours = time_calls(partial(net.etas, p, units, cutoff_s=ETA_CUTOFF_S) for p in incidents)
    ours_900 = time_calls(partial(net.etas, p, units, cutoff_s=900.0) for p in incidents)
    # fresh points: the network caches each incident's search, and a repeat is not measured
    ours_with_paths = time_calls(
        partial(_with_paths, net, p, units) for p in _random_points(net, rounds, rng)
    )

    # The same work in networkx: one reverse search per vehicle class present (each class has
    # its own speeds and restrictions), then a lookup of every unit's heads.
    classes = sorted({u.vehicle for u in units})
    reverses = {v: reverse if v == "engine" else weighted_digraph(net, v).reverse(copy=True)
                for v in classes}  # fmt: skip

    def nx_eta(p: tuple[float, float]) -> None:
        heads = set(_heads(net, p, leave=False))
        for vehicle in classes:
            times = nx.multi_source_dijkstra_path_length(
                reverses[vehicle], heads, cutoff=ETA_CUTOFF_S
            )
            [times.get(h) for h in unit_heads]

    base_eta = time_calls(partial(nx_eta, p) for p in incidents[: max(3, rounds // 3)])

    model = net.coverage(units, minutes=COVERAGE_MINUTES)
    cov = time_calls(partial(net.coverage, units, minutes=COVERAGE_MINUTES) for _ in range(rounds))
    limit = COVERAGE_MINUTES * 60

    def nx_cov(sources: list[int]) -> None:
        times = nx.multi_source_dijkstra_path_length(graph, set(sources), cutoff=limit)
        dist = np.full(net.compiled.n_nodes, np.inf)
        dist[list(times)] = list(times.values())
        _ = dist[net.compiled.arc_u] + net.compiled.weights("engine").arc_weights <= limit

    base_cov = time_calls(partial(nx_cov, unit_heads) for _ in range(3))
    busy = [units[int(i)].unit_id for i in rng.choice(len(units), size=rounds)]
    inc = time_calls(
        [partial(model.set_available, u, False) for u in busy],
        after=partial(_all_available, model, busy),
    )
    others = [h for u in units[1:] for h in _heads(net, (u.lat, u.lon), leave=True)]
    base_inc = time_calls(partial(nx_cov, others) for _ in range(3))

    pairs = list(
        zip(_random_points(net, rounds, rng), _random_points(net, rounds, rng), strict=True)
    )
    routes = time_calls(partial(net.route, o, d) for o, d in pairs)

    def nx_route(o: tuple[float, float], d: tuple[float, float]) -> None:
        nx.shortest_path(graph, _heads(net, o, leave=True)[0], _heads(net, d, leave=False)[0],
                         weight="weight")  # fmt: skip

    base_route = time_calls(partial(nx_route, o, d) for o, d in pairs[: max(3, rounds // 3)])
    return {
        "eta_all_units_ms": summary(ours, baseline=base_eta),
        "coverage_full_ms": summary(cov, baseline=base_cov),
        "coverage_incremental_ms": summary(inc, baseline=base_inc),
        "route_ms": summary(routes, baseline=base_route),
        "eta_all_units_cutoff_900s_ms": summary(ours_900),
        "eta_all_units_with_distances_and_3_routes_ms": summary(ours_with_paths),
        "graph_nodes": net.compiled.n_nodes,
        "graph_arcs": net.compiled.n_arcs,
        "units": len(units),
        "vehicle_classes": len(classes),
        "eta_cutoff_s": ETA_CUTOFF_S,
        "coverage_minutes": COVERAGE_MINUTES,
        "covered_share": round(model.covered_share, 4),
        "compiled_graph_mb": round(net.compiled_graph_mb, 2),
    }


def run(*, quick: bool = False, seed: int = 7) -> dict[str, Any]:
    """Both graphs; ``quick`` uses fewer rounds (the graph stays Seoul-size)."""
    rounds = 15 if quick else 40
    started = time.perf_counter()
    synthetic = RoadNetwork(road_like_graph(seed=seed), source="synthetic road-like graph")
    build_s = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    units = [
        UnitPosition(f"u{i:03d}", lat, lon)
        for i, (lat, lon) in enumerate(_random_points(synthetic, 120, rng))
    ]
    result = measure(synthetic, units, rounds=rounds, seed=seed)
    result["build_s"] = round(build_s, 2)
    central = load_network(network="central")
    result["seoul_central"] = measure(
        central, load_fire_units(inside=central), rounds=rounds, seed=seed
    )
    result["seoul_wide"] = seoul_wide(rounds=rounds, seed=seed)
    result["total_s"] = round(time.perf_counter() - started, 1)
    return result


def fleet_units() -> list[UnitPosition]:
    """Every vehicle of every Seoul station (dispatch's default fleet: 2 engines + 1 ambulance
    per safety centre, a command car and a ladder per fire station, a rescue truck per team)."""
    from dispatch.fleet import load_fleet
    from routing.fire_units import default_units_path

    return [
        UnitPosition(v.unit_id, v.lat, v.lon, v.kind, v.name)
        for v in load_fleet(default_units_path())
    ]


def _load_times(rounds: int) -> dict[str, Any]:
    """Seconds to load the Seoul network: from its CSV files, and from the compiled directory."""
    source = named_network_path("seoul")
    started = time.perf_counter()
    csv_net = RoadNetwork(read_network_graph(source), source=str(source))
    from_csv = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        write_compiled(csv_net.graph, Path(tmp), sources=[str(source)])
        samples = []
        for _ in range(max(3, rounds // 8)):
            started = time.perf_counter()
            load_network(Path(tmp))
            samples.append(time.perf_counter() - started)
    return {"load_csv_s": round(from_csv, 3), "load_compiled_s": round(min(samples), 3),
            "load_compiled_median_s": round(statistics.median(samples), 3)}  # fmt: skip


def seoul_wide(*, rounds: int, seed: int) -> dict[str, Any]:
    """The Seoul standard node-link network with every unit of every station."""
    net = load_network(network="seoul")
    units = fleet_units()
    result = measure(net, units, rounds=rounds, seed=seed)
    result.update(_load_times(rounds))
    return result


def _line(name: str, fig: dict[str, float]) -> str:
    ratio = f"  networkx x{fig['networkx_ratio']}" if "networkx_ratio" in fig else ""
    return f"  {name:<46} median {fig['median']:8.3f} ms  p95 {fig['p95']:8.3f} ms{ratio}"


@click.command("routing")
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable object.")
@click.option("--quick", is_flag=True, help="Fewer rounds (about half the time).")
def command(as_json: bool, quick: bool) -> None:
    """Routing engine vs plain networkx on a ~100k-node graph and central Seoul."""
    result = run(quick=quick)
    if as_json:
        click.echo(json.dumps(result))
        return
    for title, figs in (
        ("synthetic ~100k-node graph", result),
        ("central Seoul", result["seoul_central"]),
        ("Seoul-wide standard node-link", result["seoul_wide"]),
    ):
        click.echo(f"{title}: {figs['graph_nodes']} nodes, {figs['graph_arcs']} arcs, "
                   f"{figs['units']} units, compiled {figs['compiled_graph_mb']} MB")  # fmt: skip
        for key, fig in figs.items():
            if key.endswith("_ms"):
                click.echo(_line(key, fig))
