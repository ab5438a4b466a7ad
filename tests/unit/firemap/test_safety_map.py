"""The loaded shipped map: near() on real places, against a linear-scan oracle."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from firemap import FiremapQueryError, SafetyMap, layer_geojson, layer_names
from firemap.index import LinearIndex, TreeIndex
from firemap.roads import ROAD_GRAPH_FILE, read_road_graph
from firemap.sources import to_metric

SONGPA_FLAGGED_DEVICE = (37.49036434145257, 127.15741036580212)  # 소방차진입곤란, 성내천로63길
JAMSIL = (37.5124, 127.1025)
GANGNAM = (37.5172, 127.0473)  # 강남구청
SINWON_BRIDGE = (37.45434, 127.05266)  # 신원교, grade A (서초구)


def metric_distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    xs, ys = to_metric(np.array([lon1, lon2]), np.array([lat1, lat2]))
    return math.hypot(xs[1] - xs[0], ys[1] - ys[0])


def test_index_matches_linear_scan_on_random_points() -> None:
    import shapely

    rng = np.random.default_rng(7)
    pts = shapely.points(rng.uniform(0, 5000, 3000), rng.uniform(0, 5000, 3000))
    tree, linear = TreeIndex(pts), LinearIndex(pts)
    for x, y in rng.uniform(0, 5000, (50, 2)):
        for got, want in (
            (tree.within(x, y, 300), linear.within(x, y, 300)),
            (tree.nearest(x, y, 5), linear.nearest(x, y, 5)),
        ):
            assert got[0].tolist() == want[0].tolist()
            assert np.allclose(got[1], want[1])


def test_songpa_scene(safety_map: SafetyMap) -> None:
    lat, lon = SONGPA_FLAGGED_DEVICE
    r = safety_map.near(lat, lon, radius_m=200)
    assert (r.gu, r.legal_dong) == ("송파구", "마천동")
    assert r.station is not None and r.station.centre == "거여119안전센터"
    assert r.station.fire_station == "송파소방서"
    assert r.hydrants, "Songpa has hydrants within 200 m of this device"
    distances = [h.distance_m for h in r.hydrants]
    assert distances == sorted(distances) and distances[-1] <= 200
    for h in r.hydrants:
        assert h.state in {"working", "faulty_usable"}
        assert h.distance_m == pytest.approx(metric_distance(lat, lon, h.lat, h.lon), abs=0.2)
    assert all(h.state in {"out_of_service", "closed"} for h in r.hydrants_unusable)
    flagged = [d for d in r.devices if d.no_engine_access]
    assert flagged and flagged[0].zone == "소방차진입곤란" and flagged[0].distance_m < 10
    assert any(z.kind == "no_engine_access" and z.severity == "warning" for z in r.hazards)
    # The Seoul network has no alleys: the engine reaches the nearest network road, and the
    # flagged device zone says the last stretch is by hose.
    engine = next(x for x in r.restrictions if x.vehicle == "engine")
    assert engine.access == "direct" and "expect to lay hose" in engine.message
    assert any("standard node-link network" in line for line in r.coverage)
    assert "hydrant" not in " ".join(r.coverage)


def test_near_equals_the_linear_scan_map(seoul_dir, safety_map: SafetyMap) -> None:  # type: ignore[no-untyped-def]
    linear = SafetyMap.from_directory(seoul_dir, graph=safety_map.graph, index_factory=LinearIndex)
    for lat, lon in (SONGPA_FLAGGED_DEVICE, JAMSIL, GANGNAM, (37.5700, 126.9920)):
        assert safety_map.near(lat, lon, radius_m=300) == linear.near(lat, lon, radius_m=300)


def test_gangnam_has_cctv_and_hospitals_sorted(safety_map: SafetyMap) -> None:
    r = safety_map.near(*GANGNAM, radius_m=300)
    assert r.gu == "강남구" and r.cctv and all(c.distance_m <= 300 for c in r.cctv)
    assert sum(c.cameras for c in r.cctv) >= len(r.cctv)
    assert len(r.emergency_rooms) == 3
    er = [e.distance_m for e in r.emergency_rooms]
    assert er == sorted(er)
    assert "hydrant and device-zone data cover Songpa-gu only" in r.coverage


def test_bridge_is_a_hazard_with_its_grade(safety_map: SafetyMap) -> None:
    r = safety_map.near(*SINWON_BRIDGE, radius_m=100)
    bridge = next(z for z in r.hazards if z.kind == "bridge")
    assert bridge.name == "신원교" and "grade A" in bridge.detail and bridge.severity == "info"


@pytest.fixture(scope="module")
def central_map(seoul_dir: Path) -> SafetyMap:
    """The map on the central OSM detail graph (alleys, widths, device zones)."""
    return SafetyMap.from_directory(seoul_dir, graph=read_road_graph(seoul_dir / ROAD_GRAPH_FILE))


def test_the_map_assesses_access_on_the_seoul_network(safety_map: SafetyMap) -> None:
    graph = safety_map.graph
    assert graph is not None and safety_map.node_link
    assert graph.number_of_nodes() > 7000  # the whole city, not the central graph's 3,384
    # No device zones on the node-link: only one-way single-lane streets bar the ladder.
    assert safety_map.restrictions["engine"] == frozenset()
    assert safety_map.restrictions["ladder"]
    u, v, _ = sorted(safety_map.restrictions["ladder"])[0]
    a, b = graph.nodes[u], graph.nodes[v]
    r = safety_map.near((a["y"] + b["y"]) / 2, (a["x"] + b["x"]) / 2)
    by_vehicle = {x.vehicle: x for x in r.restrictions}
    assert by_vehicle["ladder"].access == "hose" and by_vehicle["engine"].access == "direct"


def test_central_scene_on_a_barred_street_gets_hose_for_engine_not_ambulance(
    central_map: SafetyMap,
) -> None:
    safety_map = central_map
    graph = safety_map.graph
    assert graph is not None
    barred = sorted(safety_map.restrictions["engine"] - safety_map.restrictions["ambulance"])
    u, v, _ = barred[0]
    a, b = graph.nodes[u], graph.nodes[v]
    r = safety_map.near((a["y"] + b["y"]) / 2, (a["x"] + b["x"]) / 2)
    by_vehicle = {x.vehicle: x for x in r.restrictions}
    assert by_vehicle["engine"].access == "hose" and by_vehicle["engine"].hose_m
    assert "last stretch by hose" in by_vehicle["engine"].message
    assert by_vehicle["ambulance"].access == "direct"


@pytest.mark.parametrize(
    ("lat", "lon", "radius"), [(35.1, 129.0, 200), (float("nan"), 127.0, 200), (37.5, 127.0, 0)]
)
def test_bad_queries_are_refused(
    safety_map: SafetyMap, lat: float, lon: float, radius: float
) -> None:
    with pytest.raises(FiremapQueryError):
        safety_map.near(lat, lon, radius_m=radius)


def test_json_contract(safety_map: SafetyMap) -> None:
    doc = json.loads(json.dumps(safety_map.near(*JAMSIL).to_dict()))
    for key in ("gu", "dong", "station", "hydrants", "devices", "restrictions"):
        assert key in doc
    for h in doc["hydrants"]:
        assert {"lat", "lon", "distance_m", "state"} <= set(h)


def test_every_layer_exports_geojson_with_attribution(safety_map: SafetyMap) -> None:
    names = layer_names(safety_map)
    assert {"hydrants", "fire_devices", "bridges", "gu", "admin_dong", "no_access"} <= set(names)
    for name in names:
        doc = layer_geojson(safety_map, name)
        assert doc["type"] == "FeatureCollection" and doc["attribution"] and doc["features"]
    barred = layer_geojson(safety_map, "no_access")["features"]
    assert len(barred) == len(safety_map.restrictions["ladder"])
    with pytest.raises(KeyError, match="unknown layer 'nope'"):
        layer_geojson(safety_map, "nope")
