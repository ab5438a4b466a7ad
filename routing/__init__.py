"""Golden-time routing engine over a real road network (the whole of Seoul by default).

networkx is the model (`RoadNetwork.graph`, typed attributes); the hot queries run on a CSR
compilation with ``scipy.sparse.csgraph``. What it offers:

- ``load_network(path=None, network=None)`` -> `RoadNetwork` (None: the configured network,
  Seoul-wide standard node-link by default). Sources: the standard node-link CSVs or MOCT
  shapefiles, OSMnx GraphML, OpenStreetMap .osm/.osm.pbf, a compiled directory (`goldentime
  network build`); ``load_info`` reports the nodes dropped outside the largest SCC.
- Speeds by road class capped by posted limits; permanent height/weight restrictions per
  vehicle class (`routing.vehicles`, ``permanent_restrictions``).
- Travel time per vehicle class (`VEHICLE_CLASSES`) from a configurable `SpeedTable`;
  per-class restrictions (``set_vehicle_restrictions``) and closures (``close_edges``,
  ``close_polygon``, ``close_radius``, ``reopen``, ``closures_geojson``) act at once.
- ``route(origin, destination, vehicle=, metric=)`` -> `Route`; ``alternative_route(route)``.
- ``etas(incident, units, cutoff_s=, top_n_routes=)`` -> ranked `UnitEta` (one reverse search).
- ``coverage(units, minutes=)`` -> `CoverageModel` (share of road length reachable, holes,
  incremental unit status changes, greedy move-up suggestions).
- ``routing.fire_units.load_fire_units`` -> the real Seoul fire units as `UnitPosition`.
- ``routing.network_info.gu_coverage`` / ``network_info`` -> the gu a network covers.

Every error is a `RoutingError` (a `GoldenTimeError`).
"""

from routing.coverage import CoverageModel, MoveUp
from routing.errors import GraphLoadError, RoutingError, SnapError, UnreachableError
from routing.loading import default_graph_path, load_network
from routing.network import RoadNetwork
from routing.snapping import Snap
from routing.speeds import VEHICLE_CLASSES, SpeedTable
from routing.values import LoadInfo, Route, UnitEta, UnitPosition
from routing.vehicles import VEHICLE_DIMENSIONS, VehicleDimensions

__all__ = [
    "VEHICLE_CLASSES",
    "VEHICLE_DIMENSIONS",
    "CoverageModel",
    "GraphLoadError",
    "LoadInfo",
    "MoveUp",
    "RoadNetwork",
    "Route",
    "RoutingError",
    "Snap",
    "SnapError",
    "SpeedTable",
    "UnitEta",
    "UnitPosition",
    "UnreachableError",
    "VehicleDimensions",
    "default_graph_path",
    "load_network",
]
