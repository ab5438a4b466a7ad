"""`NetworkParts`: what routing's helper modules use of a `RoadNetwork` (routing-internal).

The helpers (`paths`, `etas`, `approach_routes`, `one_to_many`, `coverage`, `moveup`,
`reference`) take a ``NetworkParts`` rather than the whole network: the compiled arrays, the
snapping index, the approach rules and model, the open closures, the shared `QueryCache` and
`route`. `RoadNetwork` is one (its plain attributes satisfy the read-only properties); nothing
here copies an array or makes an object per call, so the hot paths read the same arrays as
before. Code outside routing/ uses `RoadNetwork`'s own public methods instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from routing.approach_legs import ApproachModel, ApproachRules
    from routing.compiled import CompiledGraph
    from routing.query_cache import QueryCache
    from routing.road_closures import ClosureRegistry
    from routing.snapping import EdgeIndex
    from routing.values import Route


class NetworkParts(Protocol):
    """The parts of a road network that routing's helper modules read."""

    @property
    def compiled(self) -> CompiledGraph:
        """The CSR compilation: arcs, weights per (vehicle, metric), searches."""
        ...

    @property
    def index(self) -> EdgeIndex:
        """Road segments, their geometries and the snapping index."""
        ...

    @property
    def cache(self) -> QueryCache:
        """Anchors, approach legs, seeds, twins and searches of the current weight version."""
        ...

    @property
    def approach_rules(self) -> ApproachRules:
        """How points off the graph reach it."""
        ...

    @property
    def approaches(self) -> ApproachModel:
        """Entry candidates and legs for points off the graph."""
        ...

    @property
    def closures(self) -> ClosureRegistry:
        """The open closures (error messages name how many)."""
        ...

    def route(
        self,
        origin: tuple[float, float],
        destination: tuple[float, float],
        *,
        vehicle: str = ...,
        metric: str = ...,
    ) -> Route:
        """Fastest (or shortest) route between two (lat, lon) points: `RoadNetwork.route`."""
        ...
