"""The engine on the shipped central-Seoul graph, checked against networkx."""

from __future__ import annotations

import math

import pytest
import shapely
from shapely.geometry import LineString, Point

from routing import VEHICLE_CLASSES, RoadNetwork, SnapError, UnitPosition
from routing import reference as ref

from .conftest import GWANGHWAMUN, SEOUL_STATION


def test_load_info_reports_dropped_components(central: RoadNetwork) -> None:
    info = central.load_info
    assert info.nodes_total == 3384
    assert info.nodes_kept == central.graph.number_of_nodes() == 3309
    assert info.nodes_dropped == 75 and info.components_dropped == 32


def test_typed_attributes(central: RoadNetwork) -> None:
    for _u, _v, _k, data in list(central.graph.edges(keys=True, data=True))[:500]:
        assert isinstance(data["length"], float) and isinstance(data["highway"], str)
        assert isinstance(data["oneway"], bool)
        assert data["lanes"] is None or isinstance(data["lanes"], int)
        assert data["name"] is None or isinstance(data["name"], str)
    node = next(iter(central.graph.nodes(data=True)))
    assert isinstance(node[0], int) and isinstance(node[1]["x"], float)


def test_seoul_station_to_gwanghwamun_is_plausible(central: RoadNetwork) -> None:
    route = central.route(SEOUL_STATION, GWANGHWAMUN)
    assert 2_000 <= route.distance_m <= 3_500
    assert 120 <= route.eta_s <= 600
    assert "세종대로" in route.streets
    assert all(a != b for a, b in zip(route.streets, route.streets[1:], strict=False))
    assert route.geometry["type"] == "LineString"
    line = LineString(route.geometry["coordinates"])
    assert Point(SEOUL_STATION[1], SEOUL_STATION[0]).distance(Point(line.coords[0])) < 0.002
    assert Point(GWANGHWAMUN[1], GWANGHWAMUN[0]).distance(Point(line.coords[-1])) < 0.002
    # geometry draws on the streets: every vertex lies on one of the route's edges
    edges = shapely.union_all(
        [central.index.lonlat[int(central.index.seg_of_arc[central.compiled.edge_arc[e]])]
         for e in route.edges]
    )  # fmt: skip
    for x, y in route.geometry["coordinates"]:
        metres = Point(x, y).distance(edges) * 111_000
        assert metres < 1.0
    assert route.eta_s == pytest.approx(ref.route_cost(central, SEOUL_STATION, GWANGHWAMUN))


def test_vehicle_classes_differ_and_distance_metric(central: RoadNetwork) -> None:
    etas = {v: central.route(SEOUL_STATION, GWANGHWAMUN, vehicle=v).eta_s for v in VEHICLE_CLASSES}
    assert etas["ladder"] > etas["engine"] > etas["ambulance"] > etas["command"]
    shortest = central.route(SEOUL_STATION, GWANGHWAMUN, metric="distance")
    assert shortest.distance_m <= central.route(SEOUL_STATION, GWANGHWAMUN).distance_m
    assert shortest.distance_m == pytest.approx(
        ref.route_cost(central, SEOUL_STATION, GWANGHWAMUN, metric="distance")
    )


def test_alternative_avoids_busiest_segment(fresh_central: RoadNetwork) -> None:
    first = fresh_central.route(SEOUL_STATION, GWANGHWAMUN)
    alt = fresh_central.alternative_route(first)
    assert alt.avoided_edge in first.edges[1:-1]
    assert alt.avoided_edge not in alt.edges
    assert alt.eta_s >= first.eta_s
    assert not fresh_central.closures_geojson()["features"]  # probe closure removed


def test_etas_of_real_units_match_networkx(central: RoadNetwork, central_units) -> None:
    assert len(central_units) == 12
    ranked = central.etas(GWANGHWAMUN, central_units)
    expected = ref.unit_etas(central, GWANGHWAMUN, central_units)
    for item in ranked:
        assert item.eta_s == pytest.approx(expected[item.unit_id])
    assert [r.route is not None for r in ranked] == [True] * 3 + [False] * 9
    assert ranked[0].route.eta_s == pytest.approx(ranked[0].eta_s)


def test_units_beyond_cutoff_are_listed_last(central: RoadNetwork, central_units) -> None:
    ranked = central.etas(GWANGHWAMUN, central_units, cutoff_s=120)
    assert any(r.eta_s is None for r in ranked)
    seen_none = False
    for r in ranked:
        seen_none = seen_none or r.eta_s is None
        assert (r.eta_s is None) == seen_none
        assert r.eta_s is None or r.eta_s <= 120


def test_snap_returns_distance_and_far_point_names_it(central: RoadNetwork) -> None:
    snap = central.snap((37.5547, 126.9707))
    assert 0 <= snap.distance_m < 250  # the station plaza is ~140 m from a drive road
    with pytest.raises(
        SnapError, match=r"16,0\d\d m from the nearest road .*approach radius 3,000 m"
    ):
        central.route((37.40, 126.97), GWANGHWAMUN)


def test_closures_change_etas_at_once(fresh_central: RoadNetwork, central_units) -> None:
    net = fresh_central
    before = net.route(SEOUL_STATION, GWANGHWAMUN)
    polygon = {"type": "Polygon", "coordinates": [[
        (126.9755, 37.5640), (126.9785, 37.5640), (126.9785, 37.5660), (126.9755, 37.5660),
        (126.9755, 37.5640)]]}  # fmt: skip
    cid = net.close_polygon(polygon, reason="bridge inspection")
    during = net.route(SEOUL_STATION, GWANGHWAMUN)
    assert during.eta_s > before.eta_s
    assert during.eta_s == pytest.approx(ref.route_cost(net, SEOUL_STATION, GWANGHWAMUN))
    fc = net.closures_geojson()
    assert {f["properties"]["role"] for f in fc["features"]} == {"closed_roads", "area"}
    assert fc["features"][0]["properties"]["edge_count"] > 0
    rid = net.close_radius((37.5700, 126.9769), 80, reason="fire")
    eta = {e.unit_id: e.eta_s for e in net.etas(GWANGHWAMUN, central_units)}
    assert eta == pytest.approx(ref.unit_etas(net, GWANGHWAMUN, central_units))
    net.reopen(cid)
    net.reopen(rid)
    assert net.route(SEOUL_STATION, GWANGHWAMUN).eta_s == pytest.approx(before.eta_s)
    with pytest.raises(Exception, match="no open closure"):
        net.reopen(cid)


def test_vehicle_restrictions_only_affect_their_class(fresh_central: RoadNetwork) -> None:
    net = fresh_central
    first = net.route(SEOUL_STATION, GWANGHWAMUN, vehicle="ladder")
    net.set_vehicle_restrictions("ladder", first.edges[2:4], reason="too narrow")
    assert not set(first.edges[2:4]) & set(net.route(SEOUL_STATION, GWANGHWAMUN,
                                                     vehicle="ladder").edges)  # fmt: skip
    assert net.route(SEOUL_STATION, GWANGHWAMUN).edges == net.route(
        SEOUL_STATION, GWANGHWAMUN, vehicle="engine").edges  # fmt: skip
    edges, reason = net.vehicle_restrictions("ladder")
    assert sorted(edges) == sorted(first.edges[2:4]) and reason == "too narrow"
    net.set_vehicle_restrictions("ladder", [], reason="cleared")
    assert net.route(SEOUL_STATION, GWANGHWAMUN, vehicle="ladder").edges == first.edges


def test_coverage_holes_and_move_up(fresh_central: RoadNetwork, central_units) -> None:
    model = fresh_central.coverage(central_units, minutes=3)
    assert model.covered_share == pytest.approx(ref.coverage_share(fresh_central, central_units,
                                                                   minutes=3))  # fmt: skip
    busy = [u.unit_id for u in central_units[:4]]
    for unit_id in busy:
        model.set_available(unit_id, False)
    live = [u for u in central_units if u.unit_id not in busy]
    assert model.covered_share == pytest.approx(ref.coverage_share(fresh_central, live, minutes=3))
    holes = model.holes_geojson()["features"][0]
    assert holes["properties"]["uncovered_length_m"] == pytest.approx(
        model.total_length_m - model.covered_length_m, abs=1.0)  # fmt: skip
    polygons = model.holes_geojson(as_polygons=True)["features"][0]["geometry"]
    assert polygons["type"] in {"Polygon", "MultiPolygon"}
    share = model.covered_share
    moves = model.suggest_move_up(central_units, max_moves=2)
    assert moves and moves[0].gain_m > 0
    assert model.covered_share == share  # suggestion leaves the model unchanged
    model.move_unit(moves[0].unit_id, moves[0].to_lat, moves[0].to_lon)
    assert model.covered_share == pytest.approx(moves[0].covered_share_after)


def test_unit_position_validates() -> None:
    with pytest.raises(Exception, match="unknown vehicle"):
        UnitPosition("x", 37.5, 127.0, vehicle="tank")
    with pytest.raises(Exception, match="not a valid latitude"):
        UnitPosition("x", 137.5, 127.0)
    assert math.isfinite(UnitPosition("x", 37.5, 127.0).lat)
