"""`load_network`: a `RoadNetwork` from the configured network or any supported file.

Named networks (settings ``routing.network``): ``seoul``, the Korean standard node-link
network of the whole city (the default), and ``central``, the detailed OpenStreetMap graph of
central Seoul. Settings ``routing.graph_path`` (or an explicit path) overrides the name.
Supported sources: an OSMnx GraphML file, a standard node-link directory (``*node*.csv`` +
``*link*.csv``), the official MOCT_NODE/MOCT_LINK shapefiles, an OpenStreetMap extract (.osm,
.osm.pbf) and a compiled network directory (`goldentime network build`, the fast form every
process should load).
"""

from __future__ import annotations

import threading
from pathlib import Path

import networkx as nx

from goldentime.settings import Settings, load_settings
from routing.approach_legs import ApproachRules
from routing.compiled_files import fresh_sidecar, is_compiled_dir, read_compiled
from routing.errors import GraphLoadError
from routing.graphml import read_graphml
from routing.moct_shapefile import is_moct_shapefile, read_moct_shapefiles
from routing.network import RoadNetwork
from routing.osm_extract import is_osm_file, read_osm
from routing.speeds import SpeedTable
from routing.stdnodelink import is_nodelink_dir, read_nodelink_csv

NETWORK_NAMES: tuple[str, ...] = ("seoul", "central")
# Named network -> path under settings.data.seoul_dir.
_NAMED_PATHS: dict[str, str] = {
    "seoul": "roads/seoul_stdnodelink_2018",
    "central": "roads/seoul_central_drive.graphml",
}

# Standard node-link sources (CSV, shapefiles; kept through a compiled directory).
NODELINK_FORMATS = frozenset({"stdnodelink", "moct-shapefile"})
NODELINK_APPROACH_M = 6500.0  # 강동구's farthest point is 5.8 km from the Seoul cut's roads

_cache: dict[tuple[str, int, int], nx.MultiDiGraph] = {}
_cache_lock = threading.Lock()


def named_network_path(name: str, *, settings: Settings | None = None) -> Path:
    """Where the named network lives (GraphLoadError naming the choices for an unknown name)."""
    if name not in _NAMED_PATHS:
        raise GraphLoadError(
            f"unknown network {name!r}; expected one of {', '.join(NETWORK_NAMES)} "
            "(or give a file with --graph)"
        )
    settings = settings or load_settings()
    return Path(settings.data.seoul_dir) / _NAMED_PATHS[name]


def network_source(
    *, network: str | None = None, graph_path: Path | None = None, settings: Settings | None = None
) -> Path:
    """The road network source to load: ``graph_path``, else ``network``, else the settings'."""
    if graph_path is not None:
        return Path(graph_path)
    settings = settings or load_settings()
    if network is not None:
        return named_network_path(network, settings=settings)
    if settings.routing.graph_path is not None:
        return Path(settings.routing.graph_path)
    return named_network_path(settings.routing.network, settings=settings)


def default_graph_path() -> Path:
    """The configured road network source (``routing.graph_path`` or ``routing.network``)."""
    return network_source()


def read_network_graph(path: Path) -> nx.MultiDiGraph:
    """Read any supported source into a typed MultiDiGraph (uncached).

    A compiled directory (`goldentime network build`), a standard node-link CSV directory, the
    MOCT_NODE/MOCT_LINK shapefiles (their directory or either .shp), an OSMnx GraphML file, or
    an OpenStreetMap extract (.osm, .osm.pbf).
    """
    if is_compiled_dir(path):
        return read_compiled(path)
    if path.is_dir():
        if is_nodelink_dir(path):
            return read_nodelink_csv(path)
        if is_moct_shapefile(path):
            return read_moct_shapefiles(path)
        raise GraphLoadError(
            f"road network {path}: a directory must hold a compiled network (network.json), "
            "a standard node-link pair (*node*.csv and *link*.csv) or the MOCT_NODE/MOCT_LINK "
            "shapefiles"
        )
    if not path.exists():
        raise GraphLoadError(f"road network not found: {path}")
    suffix = path.name.lower()
    if is_osm_file(path):
        return read_osm(path)
    if suffix.endswith(".shp") and is_moct_shapefile(path):
        return read_moct_shapefiles(path)
    if suffix.endswith(".graphml") or suffix.endswith(".xml"):
        return read_graphml(path)
    raise GraphLoadError(
        f"road network {path}: unsupported file type; expected .graphml, .osm, .osm.pbf, "
        "MOCT_LINK.shp, a standard node-link directory or a compiled network directory"
    )


def approach_rules_for(graph: nx.MultiDiGraph) -> ApproachRules:
    """The approach rules of a network: a wider radius for the standard node-link network.

    The Seoul cut of the standard node-link network has no 강동구 (STNL_REG 124): its farthest
    point is 5.8 km from the nearest road of the network (고덕역 3.3 km, 천호역 0.1 km), so its
    incidents and stations are served by an approach leg of up to `NODELINK_APPROACH_M`.
    """
    if graph.graph.get("format") in NODELINK_FORMATS:
        return ApproachRules(approach_m=NODELINK_APPROACH_M)
    return ApproachRules()


def _cache_key(path: Path) -> tuple[str, int, int] | None:
    try:
        stat = path.stat()
        if path.is_dir():
            stamps = [p.stat() for p in sorted(path.iterdir()) if p.is_file()]
            return (
                str(path.resolve()),
                sum(s.st_size for s in stamps),
                max((s.st_mtime_ns for s in stamps), default=stat.st_mtime_ns),
            )
        return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    except OSError:
        return None


def load_network(
    path: Path | None = None,
    *,
    network: str | None = None,
    speeds: SpeedTable | None = None,
    settings: Settings | None = None,
) -> RoadNetwork:
    """Load a road network: ``path``, else the named ``network``, else the configured one.

    The parsed, typed graph is cached per source (path, size, mtime), so repeated loads are
    cheap; each call still returns an independent network (own closures and restrictions).
    """
    source = network_source(network=network, graph_path=path, settings=settings)
    compiled = source if is_compiled_dir(source) else fresh_sidecar(source)
    if compiled is not None:  # reading it is as fast as copying a cached graph
        graph = read_compiled(compiled)
        return RoadNetwork(graph, speeds=speeds, source=str(source),
                           approach=approach_rules_for(graph))  # fmt: skip
    key = _cache_key(source)
    graph = _cache.get(key) if key else None
    if graph is None:
        graph = read_network_graph(source)  # raises GraphLoadError naming the source
        if key:
            with _cache_lock:
                _cache.clear()  # keep one graph: they can be large
                _cache[key] = graph
    return RoadNetwork(graph.copy(), speeds=speeds, source=str(source),
                       approach=approach_rules_for(graph))  # fmt: skip
