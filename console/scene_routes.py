"""``GET /api/incidents/{id}/scene``: hydrants, hazards and access at an incident (firemap)."""

from __future__ import annotations

import threading
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, HTTPException, status
from sqlalchemy.orm import Session, sessionmaker

from dispatch import queries

SCENE_RADIUS_M = 200.0


class SceneMap:
    """Loads the fire-safety map once, on first use (about a second), then answers quickly."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._map: Any = None

    def near(self, lat: float, lon: float, *, radius_m: float) -> dict[str, Any]:
        with self._lock:
            if self._map is None:
                from dispatch.map_roads import safety_map
                from goldentime.settings import load_settings

                self._map = safety_map(load_settings())
        result: dict[str, Any] = self._map.near(lat, lon, radius_m=radius_m).to_dict()
        return result


def add_scene_route(app: FastAPI, *, sessions: sessionmaker[Session], scene: SceneMap) -> None:
    @app.get("/api/incidents/{incident_id}/scene", tags=["incidents"])
    async def incident_scene(incident_id: str) -> dict[str, Any]:
        """What is at the scene within 200 m: hydrants, fire devices, hazards, access, station."""

        def locate() -> tuple[float, float] | None:
            with sessions() as session:
                incident = queries.find_incident(session, incident_id)
                return None if incident is None else (incident.lat, incident.lon)

        where = await anyio.to_thread.run_sync(locate)
        if where is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no incident {incident_id}")
        return await anyio.to_thread.run_sync(
            lambda: scene.near(where[0], where[1], radius_m=SCENE_RADIUS_M)
        )
