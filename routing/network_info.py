"""What a road network covers: node/link counts, the gu it serves, its restrictions.

`gu_coverage(net)` tests the network's nodes against the Seoul gu boundaries
(data/seoul/boundaries/seoul_gu.geojson, property ``SIG_KOR_NM``). A gu is *covered* when it
holds at least `MIN_GU_SHARE` (1/10) of the median gu's node count: the Seoul cut of the
standard node-link network has 141-520 nodes in every gu but 강동구, which holds only the 9
border nodes of the bridges and roads that end on it, so 강동구 is reported missing (its points
are served by approach legs, see routing.approach_legs and routing.loading.approach_rules_for).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import shape

from goldentime.settings import load_settings
from routing.errors import RoutingError
from routing.speeds import VEHICLE_CLASSES

if TYPE_CHECKING:
    from routing.network import RoadNetwork

MIN_GU_SHARE = 0.1
GU_FILE = "boundaries/seoul_gu.geojson"


@dataclass(frozen=True)
class GuCoverage:
    """Seoul gu the network covers and those it does not (names in Korean, sorted)."""

    covered: list[str]
    missing: list[str]
    nodes: dict[str, int]  # nodes of the network inside each gu


@lru_cache(maxsize=4)
def _gu_polygons(path: Path) -> tuple[tuple[str, Any], ...]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return tuple(
            (str(f["properties"]["SIG_KOR_NM"]), shape(f["geometry"])) for f in data["features"]
        )
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise RoutingError(f"cannot read the gu boundaries {path}: {err}") from err


def gu_file() -> Path:
    """The shipped gu boundary file."""
    return Path(load_settings().data.seoul_dir) / GU_FILE


def gu_coverage(net: RoadNetwork, *, boundaries: Path | None = None) -> GuCoverage:
    """Which Seoul gu the network's nodes cover (see the module doc for the rule)."""
    xs, ys = net.compiled.node_lon, net.compiled.node_lat
    counts = {
        name: int(shapely.contains_xy(poly, xs, ys).sum())
        for name, poly in _gu_polygons(boundaries or gu_file())
    }
    inside = sorted(c for c in counts.values() if c > 0)
    median = float(np.median(inside)) if inside else 0.0
    covered = sorted(g for g, c in counts.items() if inside and c >= MIN_GU_SHARE * median)
    missing = sorted(g for g in counts if g not in covered)
    return GuCoverage(covered=covered, missing=missing, nodes=counts)


def network_info(net: RoadNetwork, *, source: str) -> dict[str, Any]:
    """The `goldentime network info --json` object of a loaded network."""
    info = net.load_info
    meta = net.graph.graph
    nodes = int(meta.get("source_nodes", info.nodes_total))
    links = int(meta.get("source_links", info.edges_kept + info.edges_dropped))
    gu = gu_coverage(net)
    limited_h = np.isfinite(net.compiled.arc_max_height)
    limited_w = np.isfinite(net.compiled.arc_max_weight)
    return {
        "source": source,
        "format": meta.get("format", "graphml"),
        "nodes": nodes,
        "links": links,
        "largest_component_nodes": net.compiled.n_nodes,
        "largest_component_links": net.compiled.n_arcs,
        "gu_covered": gu.covered,
        "gu_missing": gu.missing,
        "gu_nodes": gu.nodes,
        "road_km": round(float(net.compiled.arc_length.sum()) / 1000.0, 1),
        "links_with_speed_limit": int(np.isfinite(net.compiled.arc_maxspeed).sum()),
        "links_with_height_limit": int(limited_h.sum()),
        "links_with_weight_limit": int(limited_w.sum()),
        "links_closed_to": {v: int(net.compiled.permanent[v].sum()) for v in VEHICLE_CLASSES},
        "approach_m": net.approach_rules.approach_m,
    }
