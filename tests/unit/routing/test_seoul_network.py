"""The Seoul-wide standard node-link network: acceptance checks on the shipped data.

- shortest distances agree with an independent reading of the same CSV files (csv + plain
  networkx over SHAPE_STLe) within 0.5% on random city-wide pairs;
- a ladder truck never crosses a real link whose height or weight limit it exceeds; a car-size
  class may; firemap's replaceable restrictions do not clear them;
- 강동구 (missing from the cut): incidents and stations there get approach-leg ETAs, and every one
  of the 177 Seoul units loads on the Seoul network;
- the compiled directory gives the same network; `network info` reports the gu.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner

from ops.cli import cli
from routing import RoadNetwork, UnitPosition, load_network
from routing.approach_legs import Approach
from routing.errors import RoutingError
from routing.fire_units import load_fire_units
from routing.loading import approach_rules_for, named_network_path
from routing.vehicles import VehicleDimensions

GANGDONG = {"천호역": (37.5386, 127.1236), "고덕역": (37.5550, 127.1540),
            "강동구청": (37.5301, 127.1238)}  # fmt: skip
# Small enough for every posted limit: the plain shortest-distance network.
TINY = {v: VehicleDimensions(height_m=1.0, weight_t=0.5) for v in
        ("engine", "ladder", "rescue", "ambulance", "command")}  # fmt: skip


@pytest.fixture(scope="module")
def seoul() -> RoadNetwork:
    return load_network(network="seoul")


def _independent(directory: Path) -> tuple[nx.DiGraph, dict[int, tuple[float, float]]]:
    """The CSV pair read with csv and plain networkx: min link length per (from, to)."""
    nodes: dict[int, tuple[float, float]] = {}
    with (directory / "Seoul_node.csv").open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            nodes[int(row["Id"])] = (float(row["latitude"]), float(row["longitude"]))
    graph = nx.DiGraph()
    with (directory / "Seoul_link.csv").open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            u, v, length = int(row["Source"]), int(row["Target"]), float(row["SHAPE_STLe"])
            known = u in nodes and v in nodes
            if known and (not graph.has_edge(u, v) or graph[u][v]["length"] > length):
                graph.add_edge(u, v, length=length)
    return graph, nodes


def test_shortest_distances_agree_with_an_independent_reading() -> None:
    directory = named_network_path("seoul")
    plain, coords = _independent(directory)
    core = max(nx.strongly_connected_components(plain), key=len)
    graph = load_network(network="seoul").graph
    net = RoadNetwork(graph, vehicles=TINY, approach=approach_rules_for(graph))
    rng = np.random.default_rng(15)
    ids = sorted(core)
    pairs = [tuple(int(x) for x in rng.choice(ids, size=2, replace=False)) for _ in range(40)]
    checked = 0
    for a, b in pairs:
        expected = nx.shortest_path_length(plain, a, b, weight="length")
        got = net.route(coords[a], coords[b], vehicle="command", metric="distance").distance_m
        assert got == pytest.approx(expected, rel=0.005), (a, b)
        checked += expected > 5000  # city-wide, not neighbours
    assert checked >= 20


def _limited(net: RoadNetwork, name: str) -> list[tuple[int, int, int]]:
    return [
        (u, v, k)
        for u, v, k, d in net.graph.edges(keys=True, data=True)
        if d.get("name") == name and (d.get("max_height_m") or 99) < 3.9
    ]


def test_a_ladder_never_crosses_the_seoul_station_overpass(seoul: RoadNetwork) -> None:
    # 서울역고가차도: 3.0 m and 13 t in the 2018 data (a ladder is 3.9 m, 30 t).
    limited = _limited(seoul, "서울역고가차도")
    assert limited
    blocked = set(seoul.permanent_restrictions("ladder"))
    assert set(limited) <= blocked
    assert not set(limited) & set(seoul.permanent_restrictions("command"))
    u, v, _k = limited[0]
    a, b = seoul.graph.nodes[u], seoul.graph.nodes[v]
    start = (a["y"] * 0.8 + b["y"] * 0.2, a["x"] * 0.8 + b["x"] * 0.2)
    end = (a["y"] * 0.2 + b["y"] * 0.8, a["x"] * 0.2 + b["x"] * 0.8)
    car = seoul.route(start, end, vehicle="command")
    assert set(car.edges) & set(limited)  # the command car drives over it
    ladder = seoul.route(start, end, vehicle="ladder")
    assert not set(ladder.edges) & blocked
    assert ladder.eta_s > car.eta_s


def test_limits_hold_on_random_routes_and_survive_replaced_restrictions(
    seoul: RoadNetwork,
) -> None:
    net = load_network(network="seoul")
    net.set_vehicle_restrictions("ladder", [], reason="firemap: no narrow streets here")
    assert net.vehicle_restrictions("ladder") == ([], "firemap: no narrow streets here")
    rng = np.random.default_rng(3)
    ids = net.compiled.node_ids
    for _ in range(15):
        a, b = (net.graph.nodes[int(n)] for n in rng.choice(ids, size=2, replace=False))
        route = net.route((a["y"], a["x"]), (b["y"], b["x"]), vehicle="ladder")
        for u, v, k in route.edges:
            data = net.graph.edges[u, v, k]
            assert (data.get("max_height_m") or 99) >= 3.9
            assert (data.get("max_weight_t") or 99) >= 30.0


def test_gangdong_points_get_approach_leg_etas(seoul: RoadNetwork) -> None:
    units = load_fire_units(inside=seoul, approach_m=None)
    assert len(units) == 177  # every Seoul station, safety centre and team
    assert seoul.approach_rules.approach_m >= 6000
    for name, point in GANGDONG.items():
        ranked = seoul.etas(point, units, cutoff_s=1200)
        assert ranked[0].eta_s is not None and ranked[0].eta_s < 600, name
    godeok = seoul.etas(GANGDONG["고덕역"], units, cutoff_s=1200, top_n_routes=1)
    first = godeok[0]
    assert isinstance(seoul.endpoint(GANGDONG["고덕역"]), Approach)
    assert first.note and "estimated" in first.note
    assert first.route is not None and first.distance_m is not None
    stations = [u for u in units if u.name in ("고덕119안전센터", "강일119안전센터")]
    assert len(stations) == 2
    assert all(isinstance(seoul.endpoint((u.lat, u.lon)), Approach) for u in stations)
    to_center = seoul.etas((37.5663, 126.9779), stations, cutoff_s=3600)
    assert all(e.eta_s is not None for e in to_center)


# A street in a pocket behind limited links (37.5287, 127.0989, 광진구): every road within the
# snap distance is stranded for the big classes, while vans drive in.
POCKET = (37.52865891416331, 127.09892800713047)


def test_a_class_that_cannot_meet_the_incident_does_not_sink_the_others(
    seoul: RoadNetwork,
) -> None:
    stations = load_fire_units(inside=seoul)
    units = [
        UnitPosition(f"{u.unit_id}-{vehicle}", u.lat, u.lon, vehicle)
        for u in stations
        for vehicle in ("engine", "ambulance")
    ]
    etas = seoul.etas(POCKET, units, cutoff_s=3600)
    engines = [e for e in etas if e.vehicle == "engine"]
    ambulances = [e for e in etas if e.vehicle == "ambulance"]
    assert engines and all(e.eta_s is None for e in engines)
    assert all("no road near the incident open to engine units" in (e.note or "") for e in engines)
    assert any(e.eta_s is not None for e in ambulances), "the vans still rank"
    assert etas[0].vehicle == "ambulance" and etas[0].eta_s is not None
    # No class at all: still an error (an incident far from any road).
    with pytest.raises(RoutingError):
        seoul.etas((37.75, 126.60), units, cutoff_s=3600)


def test_compiled_directory_and_info(tmp_path: Path) -> None:
    out = tmp_path / "seoul"
    source = str(named_network_path("seoul"))
    built = CliRunner().invoke(cli, ["network", "build", source, "-o", str(out)])
    assert built.exit_code == 0, built.output
    assert "network build:" in built.stderr and "done in" in built.stderr
    compiled = load_network(out)
    csv_net = load_network(network="seoul")
    assert compiled.compiled.n_arcs == csv_net.compiled.n_arcs
    trip = ((37.5663, 126.9779), (37.4979, 127.0276))
    for vehicle in ("ladder", "ambulance"):
        a, b = compiled.route(*trip, vehicle=vehicle), csv_net.route(*trip, vehicle=vehicle)
        assert a.edges == b.edges and a.eta_s == pytest.approx(b.eta_s)
    assert compiled.approach_rules.approach_m == csv_net.approach_rules.approach_m
    info = CliRunner().invoke(cli, ["network", "info", "--graph", str(out), "--json"])
    assert info.exit_code == 0, info.output
    data = json.loads(info.stdout)
    assert data["nodes"] == 7405 and data["largest_component_nodes"] == 7317
    assert data["links"] == 19660 and data["source"] == str(out)
    assert len(data["gu_covered"]) == 24 and data["gu_missing"] == ["강동구"]


def test_a_fresh_compiled_sidecar_is_loaded_automatically(tmp_path: Path) -> None:
    source = tmp_path / "seoul_stdnodelink_2018"
    shutil.copytree(named_network_path("seoul"), source)
    out = tmp_path / "seoul_stdnodelink_2018.compiled"
    built = CliRunner().invoke(cli, ["network", "build", str(source), "-o", str(out)])
    assert built.exit_code == 0, built.output
    fast = load_network(source)
    assert fast.graph.graph.get("source_nodes") == 7405  # only the compiled form records it
    assert fast.load_info.source == str(source)
    with (source / "Seoul_link.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n")  # the source changed: the compiled copy is stale, not used
    slow = load_network(source)
    assert "source_nodes" not in slow.graph.graph
    assert slow.compiled.n_arcs == fast.compiled.n_arcs


def test_ranks_run_one_to_n_and_unreached_units_follow_by_id_on_every_query(
    seoul: RoadNetwork,
) -> None:
    stations = load_fire_units(inside=seoul, approach_m=None)
    units = [
        UnitPosition(f"{u.unit_id}-{vehicle}", u.lat, u.lon, vehicle)
        for u in stations
        for vehicle in ("engine", "ambulance", "ladder")
    ]
    rng = np.random.default_rng(11)
    nodes = rng.choice(seoul.compiled.node_ids, size=25, replace=False)
    for cutoff in (300.0, 420.0, 300.0):  # the shared tail rows again, after another cutoff
        for node in nodes.tolist():
            data = seoul.graph.nodes[int(node)]
            ranked = seoul.etas((data["y"], data["x"]), units, cutoff_s=cutoff)
            assert [e.rank for e in ranked] == list(range(1, len(units) + 1))
            reached = [e for e in ranked if e.eta_s is not None]
            rest = ranked[len(reached) :]
            assert all(e.eta_s is None for e in rest)
            assert [e.unit_id for e in rest] == sorted(e.unit_id for e in rest)
            assert all(
                e.note and str(int(cutoff)) in e.note for e in rest if "approach" not in e.note
            )
            assert {e.unit_id for e in ranked} == {u.unit_id for u in units}
