"""firemap's safety map on the configured road network: routing loads it, firemap assesses it.

firemap does not import routing, so the callers that show the safety map with per-vehicle access
(the console's scene, `goldentime firemap`, the firemap benchmark) take it from here: dispatch
is the domain that composes routing and firemap (``dispatch.context.road_network`` is the other
direction: firemap's restrictions applied to routing's network).
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from firemap.errors import FiremapDataError
from firemap.roads import assessment_graph
from firemap.safety_map import SafetyMap
from goldentime.settings import Settings
from routing import RoutingError, load_network
from routing.loading import network_source


def _routing_graph(source: Path) -> nx.MultiDiGraph:
    return load_network(source).graph


def safety_map_roads(settings: Settings) -> nx.MultiDiGraph:
    """The road graph the safety map assesses access on: the configured network (settings
    ``routing.network`` / ``routing.graph_path``, Seoul-wide by default) as routing loads it
    (largest strongly connected component); the central OSM graph through firemap's own reader
    (:func:`firemap.roads.assessment_graph`). FiremapDataError when it cannot be loaded."""
    source = network_source(settings=settings)
    try:
        return assessment_graph(
            source, data_dir=settings.data.seoul_dir, read_network=_routing_graph
        )
    except RoutingError as err:
        raise FiremapDataError(f"cannot load road network: {err}", file=source) from err


def safety_map(settings: Settings) -> SafetyMap:
    """Every layer of ``settings.data.seoul_dir`` with road access on :func:`safety_map_roads`
    (about a second and the network's load; not cached: callers keep it)."""
    return SafetyMap.from_directory(settings.data.seoul_dir, graph=safety_map_roads(settings))
