"""`load_network`: a `RoadNetwork` from a GraphML file (default: the shipped central Seoul)."""

from __future__ import annotations

import threading
from pathlib import Path

import networkx as nx

from goldentime.settings import load_settings
from routing.graphml import read_graphml
from routing.network import RoadNetwork
from routing.speeds import SpeedTable

_cache: dict[tuple[str, int, int], nx.MultiDiGraph] = {}
_cache_lock = threading.Lock()


def default_graph_path() -> Path:
    """The shipped central-Seoul drive graph under ``settings.seoul_data_dir``."""
    return Path(load_settings().seoul_data_dir) / "roads" / "seoul_central_drive.graphml"


def load_network(path: Path | None = None, *, speeds: SpeedTable | None = None) -> RoadNetwork:
    """Load a road network; ``None`` loads the shipped central-Seoul graph.

    The parsed, typed graph is cached per file (path, size, mtime), so repeated loads are
    cheap; each call still returns an independent network (own closures and restrictions).
    """
    path = Path(path) if path is not None else default_graph_path()
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    except OSError:
        key = None
    graph = _cache.get(key) if key else None
    if graph is None:
        graph = read_graphml(path)  # raises GraphLoadError naming the file
        if key:
            with _cache_lock:
                _cache.clear()  # keep one graph: they can be large
                _cache[key] = graph
    return RoadNetwork(graph.copy(), speeds=speeds, source=str(path))
