"""One model from every source: MOCT shapefiles (EPSG:5186), OSM extracts (.osm, .osm.pbf), speeds.

The shapefiles are written here (pyshp + .prj + .cpg) from a slice of the shipped standard
node-link CSVs, the OSM extracts (pyosmium's writer) from a slice of the central GraphML; each
is loaded back and must give the same network and the same routes as its origin.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import networkx as nx
import osmium
import pytest
import shapefile
from pyproj import CRS, Transformer

from goldentime.nodelink import decode_road_name
from routing import GraphLoadError, RoadNetwork, load_network
from routing.compiled import CompiledGraph
from routing.compiled_files import write_compiled
from routing.loading import named_network_path, read_network_graph
from routing.moct_shapefile import read_moct_shapefiles
from routing.osm_extract import parse_maxheight, parse_maxspeed, parse_maxweight, read_osm
from routing.speeds import SpeedTable

# 중구/종로 around City Hall: a few hundred nodes of the standard network.
BOX = (37.545, 126.955, 37.585, 127.010)  # south, west, north, east


def _inside(lat: float, lon: float) -> bool:
    return BOX[0] <= lat <= BOX[2] and BOX[1] <= lon <= BOX[3]


@pytest.fixture(scope="module")
def csv_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped CSV pair cut to BOX (same columns), as a standard node-link directory."""
    source = named_network_path("seoul")
    out = tmp_path_factory.mktemp("nodelink")
    keep: set[str] = set()
    for name in ("Seoul_node.csv", "Seoul_link.csv"):
        with (source / name).open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            fields = reader.fieldnames or []
        if name.endswith("node.csv"):
            rows = [r for r in rows if _inside(float(r["latitude"]), float(r["longitude"]))]
            keep = {r["Id"] for r in rows}
        else:
            rows = [r for r in rows if r["Source"] in keep and r["Target"] in keep]
        with (out / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    return out


def _write_moct(csv_dir: Path, out: Path) -> None:
    """The official layout: MOCT_NODE/MOCT_LINK in EPSG:5186, CP949 attributes, .prj, .cpg."""
    to_5186 = Transformer.from_crs("EPSG:4326", "EPSG:5186", always_xy=True)
    wkt = CRS.from_epsg(5186).to_wkt("WKT1_ESRI")
    where: dict[str, tuple[float, float]] = {}
    with shapefile.Writer(str(out / "MOCT_NODE"), shapeType=shapefile.POINT,
                          encoding="cp949") as w:  # fmt: skip
        for field in ("NODE_ID", "NODE_TYPE", "NODE_NAME", "STNL_REG"):
            w.field(field, "C", size=40)
        with (csv_dir / "Seoul_node.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                x, y = to_5186.transform(float(row["longitude"]), float(row["latitude"]))
                where[row["Id"]] = (x, y)
                w.point(x, y)
                w.record(row["Id"], row["NODE_TYPE"], row["NODE_NAME"], row["STNL_REG"])
    with shapefile.Writer(str(out / "MOCT_LINK"), shapeType=shapefile.POLYLINE,
                          encoding="cp949") as w:  # fmt: skip
        for field in ("LINK_ID", "F_NODE", "T_NODE", "ROAD_RANK", "ROAD_TYPE", "ROAD_NAME",
                      "CONNECT"):  # fmt: skip
            w.field(field, "C", size=40)
        for field in ("LANES", "MAX_SPD", "REST_W", "REST_H", "LENGTH"):
            w.field(field, "N", size=18, decimal=6)
        with (csv_dir / "Seoul_link.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                w.line([[where[row["Source"]], where[row["Target"]]]])
                w.record(
                    row["LINK_ID"], row["Source"], row["Target"], row["ROAD_RANK"],
                    row["ROAD_TYPE"], decode_road_name(row["ROAD_NAME"]) or "", row["CONNECT"],
                    float(row["LANES"] or 0), float(row["MAX_SPD"] or 0),
                    float(row["REST_W"] or 0), float(row["REST_H"] or 0),
                    float(row["SHAPE_STLe"]),
                )  # fmt: skip
    for name in ("MOCT_NODE", "MOCT_LINK"):
        (out / f"{name}.prj").write_text(wkt, encoding="ascii")
        (out / f"{name}.cpg").write_text("cp949", encoding="ascii")


def test_moct_shapefiles_give_the_csv_network(csv_slice: Path, tmp_path: Path) -> None:
    _write_moct(csv_slice, tmp_path)
    from_shp = read_moct_shapefiles(tmp_path / "MOCT_LINK.shp")
    from_csv = read_network_graph(csv_slice)
    assert from_shp.number_of_nodes() == from_csv.number_of_nodes() > 200
    assert set(from_shp.edges(keys=True)) == set(from_csv.edges(keys=True))
    for u, v, k, data in from_csv.edges(keys=True, data=True):
        shp = from_shp.edges[u, v, k]
        for key in ("highway", "name", "lanes", "maxspeed_kmh", "max_height_m", "max_weight_t",
                    "bridge", "tunnel", "oneway", "link_id", "road_rank"):  # fmt: skip
            assert shp[key] == data[key], (u, v, key)
        assert shp["length"] == pytest.approx(data["length"])
        assert shp["geometry"].coords[0] == pytest.approx(
            (from_csv.nodes[u]["x"], from_csv.nodes[u]["y"]), abs=1e-7
        )
    a = load_network(tmp_path)  # the directory form
    b = load_network(csv_slice)
    trip = ((37.5547, 126.9707), (37.5759, 126.9768))
    ra, rb = a.route(*trip, vehicle="ambulance"), b.route(*trip, vehicle="ambulance")
    assert ra.edges == rb.edges and ra.distance_m == pytest.approx(rb.distance_m, rel=1e-6)
    assert a.approach_rules.approach_m == b.approach_rules.approach_m  # both standard node-link


def _write_osm(graph: nx.MultiDiGraph, path: Path) -> None:
    """A GraphML slice as raw OSM: one way per road (two-way once), geometry as way nodes."""
    next_id = 10**12
    with osmium.SimpleWriter(str(path)) as writer:
        for n, data in graph.nodes(data=True):
            writer.add_node(osmium.osm.mutable.Node(id=n, location=(data["x"], data["y"])))
        for number, (u, v, data) in enumerate(graph.edges(data=True), start=1):
            if u == v or (not data["oneway"] and u > v and graph.has_edge(v, u)):
                continue
            refs = [u]
            coords = list(data["geometry"].coords)[1:-1] if "geometry" in data else []
            for x, y in coords:
                next_id += 1
                writer.add_node(osmium.osm.mutable.Node(id=next_id, location=(x, y)))
                refs.append(next_id)
            refs.append(v)
            tags = {"highway": data["highway"]}
            if data["oneway"] or not graph.has_edge(v, u):
                tags["oneway"] = "yes"
            if data.get("name"):
                tags["name"] = ";".join(data["names"])
            writer.add_way(osmium.osm.mutable.Way(id=number, nodes=refs, tags=tags))


@pytest.fixture(scope="module")
def central_slice() -> nx.MultiDiGraph:
    graph = load_network(network="central").graph
    keep = [n for n, d in graph.nodes(data=True) if 37.553 <= d["y"] <= 37.578
            and 126.968 <= d["x"] <= 126.985]  # fmt: skip
    return graph.subgraph(keep).copy()


@pytest.mark.parametrize("suffix", [".osm", ".osm.pbf"])
def test_osm_extract_routes_agree_with_graphml(
    central_slice: nx.MultiDiGraph, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"slice{suffix}"
    _write_osm(central_slice, path)
    extract = load_network(path)
    graphml = RoadNetwork(central_slice, source="central slice")
    assert extract.compiled.n_nodes >= 0.9 * graphml.compiled.n_nodes
    trips = [((37.5547, 126.9707), (37.5759, 126.9768)),
             ((37.5700, 126.9830), (37.5560, 126.9720))]  # fmt: skip
    for origin, destination in trips:
        for metric in ("time", "distance"):
            a = graphml.route(origin, destination, vehicle="engine", metric=metric)
            b = extract.route(origin, destination, vehicle="engine", metric=metric)
            assert b.distance_m == pytest.approx(a.distance_m, rel=0.005)
            assert b.eta_s == pytest.approx(a.eta_s, rel=0.005)
            assert b.streets == a.streets


def test_osm_tags_oneway_and_limits(tmp_path: Path) -> None:
    path = tmp_path / "tags.osm"
    points = {1: (126.9700, 37.5600), 2: (126.9750, 37.5600), 3: (126.9800, 37.5600),
              4: (126.9750, 37.5640)}  # fmt: skip
    with osmium.SimpleWriter(str(path)) as writer:
        for n, loc in points.items():
            writer.add_node(osmium.osm.mutable.Node(id=n, location=loc))
        ways = [
            ([1, 2, 3], {"highway": "primary", "name": "A로", "maxspeed": "50",
                         "maxheight": "3.5", "lanes": "4", "bridge": "yes"}),
            ([3, 4], {"highway": "residential", "oneway": "-1", "maxweight": "5000 kg"}),
            ([4, 1], {"highway": "secondary", "oneway": "yes", "maxspeed": "30 mph"}),
            ([2, 4], {"highway": "tertiary"}),  # makes 2 a junction of drivable ways
            ([1, 3], {"highway": "footway"}),  # not drivable
            ([3, 1], {"highway": "residential", "access": "private"}),  # not open
        ]  # fmt: skip
        for i, (refs, tags) in enumerate(ways, start=1):
            writer.add_way(osmium.osm.mutable.Way(id=i, nodes=refs, tags=tags))
    graph = read_osm(path)
    assert set(graph.edges()) == {(1, 2), (2, 1), (2, 3), (3, 2), (4, 3), (4, 1), (2, 4), (4, 2)}
    a_ro = graph.edges[1, 2, 0]
    assert a_ro["name"] == "A로" and a_ro["maxspeed_kmh"] == 50 and a_ro["lanes"] == 4
    assert a_ro["max_height_m"] == 3.5 and a_ro["bridge"] == "yes" and not a_ro["oneway"]
    assert graph.edges[4, 3, 0]["max_weight_t"] == 5.0 and graph.edges[4, 3, 0]["oneway"]
    assert graph.edges[4, 1, 0]["maxspeed_kmh"] == pytest.approx(48.28, abs=0.01)
    assert graph.edges[1, 2, 0]["length"] == pytest.approx(441, rel=0.01)
    net = RoadNetwork(graph)
    assert (1, 2, 0) in net.permanent_restrictions("ladder")  # 3.9 m > 3.5 m
    assert (4, 3, 0) in net.permanent_restrictions("engine")  # 16 t > 5 t
    assert not net.permanent_restrictions("command")


@pytest.mark.parametrize(
    ("text", "kmh", "height", "weight"),
    [("60", 60.0, None, 60.0), ("KR:urban", None, None, None), ("4.2 m", 4.2, 4.2, 4.2),
     ("13'6\"", 13.0, 4.1148, 13.0), ("30 mph", 48.28032, None, 30.0), ("none", None, None, None)],
)  # fmt: skip
def test_tag_parsers(
    text: str, kmh: float | None, height: float | None, weight: float | None
) -> None:
    assert parse_maxspeed(text) == (None if kmh is None else pytest.approx(kmh))
    assert parse_maxheight(text) == (None if height is None else pytest.approx(height))
    assert parse_maxweight(text) == (None if weight is None else pytest.approx(weight))


def test_speed_is_capped_by_the_posted_limit() -> None:
    graph = nx.MultiDiGraph()
    graph.add_node(1, x=126.97, y=37.56)
    graph.add_node(2, x=126.98, y=37.56)
    for u, v in ((1, 2), (2, 1)):
        graph.add_edge(u, v, length=1000.0, highway="tertiary", maxspeed_kmh=30.0)
    graph.add_edge(1, 2, length=1000.0, highway="tertiary")  # no posted limit: class speed
    compiled = CompiledGraph(graph, speeds=SpeedTable())
    times = compiled.base_weights("ambulance", "time")
    capped = [t for (u, _v, k), t in zip(compiled.edges, times, strict=True) if (u, k) != (1, 1)]
    assert all(t == pytest.approx(1000 / (30 * 0.8 / 3.6)) for t in capped)  # 24 km/h
    free = times[compiled.edge_arc[(1, 2, 1)]]
    assert free == pytest.approx(1000 / (33 / 3.6))  # tertiary 30 x ambulance 1.1
    slow = CompiledGraph(graph, speeds=SpeedTable(limit_factor=1.0))
    assert min(slow.base_weights("engine", "time")) == pytest.approx(1000 / (30 / 3.6))
    assert math.isnan(compiled.arc_maxspeed[compiled.edge_arc[(1, 2, 1)]])


def test_a_damaged_compiled_directory_is_a_clear_error(tmp_path: Path) -> None:
    graph = nx.MultiDiGraph()
    graph.add_node(1, x=126.97, y=37.56)
    graph.add_node(2, x=126.98, y=37.56)
    graph.add_edge(1, 2, length=880.0, highway="primary", name="A로", names=["A로"])
    graph.add_edge(2, 1, length=880.0, highway="primary", name=None, names=[])
    write_compiled(graph, tmp_path, sources=["test"])
    back = load_network(tmp_path)
    assert (
        back.graph.edges[1, 2, 0]["names"] == ["A로"] and back.graph.edges[2, 1, 0]["names"] == []
    )
    (tmp_path / "network.npz").write_bytes(b"not a zip")
    with pytest.raises(GraphLoadError, match="rebuild it"):
        load_network(tmp_path)
    (tmp_path / "network.json").write_text('{"format": "other"}', encoding="utf-8")
    with pytest.raises(GraphLoadError, match="not a goldentime-network"):
        load_network(tmp_path)
