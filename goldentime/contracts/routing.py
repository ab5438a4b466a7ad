"""Wire contracts of road closures and unit routes.

* :class:`RoadClosure` on ``routing.closures`` (:data:`goldentime.topics.CLOSURES`), keyed by
  ``id`` (the closure id). One closure is two records at most: ``action=close`` when a
  structure's alarm closes its road-graph edges, ``action=reopen`` when the alarm clears. Both
  carry the same ``id`` and ``edges``, so every process that routes applies them idempotently:
  closing an id that is already closed, or reopening one that is not, changes nothing. Records
  of one closure share a key, hence a partition, hence their order.
* :class:`UnitRoute`: the route a unit is driving (set when it is dispatched, replaced when a
  closure re-routes it or its destination moves) and its :class:`RouteDestination` (the
  incident, or the staging point of a mass-casualty incident for its ambulances).
  :class:`RoutedUnitState` is the ``units`` record with that route, so the compacted
  ``units`` topic and ``GET /api/units`` carry the current route with the unit.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from goldentime.contracts.core import AwareDatetime, Record, RecordId
from goldentime.contracts.dispatch import UnitState

Edge = tuple[int, int, int]


class ClosureAction(StrEnum):
    CLOSE = "close"
    REOPEN = "reopen"


class RoadClosure(Record):
    """Close or reopen a structure's road-graph edges (topic ``routing.closures``)."""

    structure_id: RecordId = Field(description="The bridge or tunnel whose edges these are.")
    structure_name: str = Field(default="", max_length=200)
    edges: list[Edge] = Field(
        min_length=1,
        max_length=500,
        description="(u, v, key) of the road graph, one direction each.",
    )
    reason: str = Field(min_length=1, max_length=1000)
    action: ClosureAction
    at: AwareDatetime = Field(description="Event time of the alarm that decided it.")
    incident_id: RecordId | None = Field(default=None, description="The incident it belongs to.")

    @model_validator(mode="after")
    def _edges_valid(self) -> Self:
        for u, v, key in self.edges:
            if u < 0 or v < 0 or key < 0:
                raise ValueError(f"edge ({u}, {v}, {key}): node ids and keys are >= 0")
        return self

    @property
    def event_time(self) -> datetime:
        return self.at


class RouteDestination(BaseModel):
    """Where a unit's route ends: the incident's location, or the staging point (집결지) of a
    mass-casualty incident, where its ambulances gather before they are given patients."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["incident", "staging"] = Field(
        default="incident", description="incident: the scene; staging: the MCI's staging point."
    )
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    label: str = Field(default="", max_length=120, description="What a crew reads, e.g. 집결지.")


class UnitRoute(BaseModel):
    """The route a unit is driving to its incident (its scene, or its staging point)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    incident_id: str
    computed_at: AwareDatetime
    eta_s: float = Field(ge=0, allow_inf_nan=False, description="From where it was re-planned.")
    distance_m: float = Field(ge=0, allow_inf_nan=False)
    geometry: dict[str, Any] = Field(description="GeoJSON LineString, [lon, lat].")
    edges: list[Edge] = Field(default_factory=list)
    streets: list[str] = Field(default_factory=list)
    reason: str = Field(default="dispatched", max_length=300)
    avoids: list[str] = Field(default_factory=list, description="Closure ids it avoids.")
    revision: int = Field(default=1, ge=1, description="Grows with every re-route.")
    destination: RouteDestination | None = Field(
        default=None, description="Where it ends (None: routes planned before it was recorded)."
    )


class RoutedUnitState(UnitState):
    """A unit's state with the route it is driving (``None`` when it is not on its way)."""

    route: UnitRoute | None = None
