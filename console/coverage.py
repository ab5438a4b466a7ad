"""Coverage holes for the dispatcher's map: road the available units cannot reach in time.

The road network is loaded on first use (routing, with firemap's vehicle restrictions), and
a result is kept for a few seconds, so many dispatchers' maps cost one computation. The model
covers the network's roads only: the gu the network does not hold (강동구 in the standard
node-link cut) are named in every answer (``gu_missing``, ``note``), never shown as covered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from fastapi import FastAPI, Query
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from console.basemap_build import MISSING_NOTE, NetworkCoverage
from dispatch import queries
from goldentime.settings import Settings
from routing import RoadNetwork, RoutingError, UnitPosition

CACHE_S = 15.0
Vehicle = Literal["engine", "ambulance", "ladder", "rescue", "command"]


class CoverageService:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        *,
        network: Callable[[], NetworkCoverage] | None = None,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._network_coverage = network
        self._network: RoadNetwork | None = None
        self._lock = threading.Lock()
        self._cache: dict[tuple[float, str], tuple[float, dict[str, Any]]] = {}

    def _road_network(self) -> RoadNetwork:
        if self._network is None:
            from dispatch.context import road_network

            self._network = road_network(self._settings)
        return self._network

    def holes(self, *, minutes: float, vehicle: str) -> dict[str, Any]:
        key = (minutes, vehicle)
        with self._lock:  # one computation at a time; the others wait and take the result
            cached = self._cache.get(key)
            if cached is not None and time.monotonic() - cached[0] < CACHE_S:
                return cached[1]
            network = self._road_network()
            with self._sessions() as session:
                found = queries.available_units(session, kind=vehicle)
            units = [UnitPosition(u.id, u.lat, u.lon, vehicle=vehicle, name=u.name) for u in found]
            try:
                model = network.coverage(units, minutes=minutes, vehicle=vehicle)
                body: dict[str, Any] = {
                    "vehicle": vehicle,
                    "minutes": minutes,
                    "units": len(units),
                    "covered_share": round(model.covered_share, 4),
                    "holes": model.holes_geojson(as_polygons=True),
                }
            except RoutingError as err:
                body = {
                    "vehicle": vehicle,
                    "minutes": minutes,
                    "units": len(units),
                    "covered_share": 0.0,
                    "holes": {"type": "FeatureCollection", "features": []},
                    "error": str(err),
                }
            body["gu_missing"] = (
                self._network_coverage().gu_missing if self._network_coverage else []
            )
            body["note"] = MISSING_NOTE
            self._cache[key] = (time.monotonic(), body)
            return body


def add_coverage_route(app: FastAPI, service: CoverageService) -> None:
    @app.get("/api/coverage", tags=["map"])
    async def coverage(
        minutes: float = Query(default=5.0, gt=0, le=30),
        vehicle: Vehicle = "engine",
    ) -> dict[str, Any]:
        """Share of road length the available units of a class reach within ``minutes``, and
        the holes (GeoJSON polygons) where none does."""
        return await run_in_threadpool(service.holes, minutes=minutes, vehicle=vehicle)
