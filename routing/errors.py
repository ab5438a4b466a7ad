"""Errors raised by the routing package (all derive from `GoldenTimeError`)."""

from __future__ import annotations

from goldentime.errors import GoldenTimeError


class RoutingError(GoldenTimeError):
    """A road graph, a point, a route or a coverage request cannot be served."""


class GraphLoadError(RoutingError):
    """A road graph file is missing, corrupt, or lacks the attributes routing needs."""


class SnapError(RoutingError):
    """A point lies too far from any usable road of the graph."""


class UnreachableError(RoutingError):
    """No open road path joins the two points for this vehicle."""
