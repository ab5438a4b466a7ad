"""Places for the console: ``GET /api/places`` (the intake form's autocomplete) and the
``place`` and caller-location fields of the incident JSON (board, detail, crew view, stream).

Reverse geocoding runs at read time rather than being stored with the incident: the answer is
a function of the position alone, so a cache keyed by position makes every repeat a dict
lookup (incidents do not move), a batch of new positions is one vectorised STRtree pass
(~0.1 ms CPU a point), nothing in the dispatch intake's hot path or the database changes, and a
better gazetteer applies to old incidents at once. The caller's location uncertainty is read
from dispatch's calls in one indexed query per batch of incidents
(``dispatch.queries.caller_locations``).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, status
from sqlalchemy.orm import Session

import places
from dispatch import queries

log = logging.getLogger(__name__)

CACHE_SIZE = 50_000  # positions; an entry is a small dict


class IncidentPlaces:
    """Adds ``place``, ``location_uncertainty_m`` and ``location_source`` to incident JSON."""

    def __init__(self, data_dir: Path, *, warm: bool = True) -> None:
        self._data_dir = data_dir
        self._cache: OrderedDict[tuple[float, float], dict[str, Any] | None] = OrderedDict()
        self._lock = threading.Lock()
        if warm:  # build the gazetteer off the request path (about a second, once a process)
            threading.Thread(target=self._warm, name="places-warm-up", daemon=True).start()

    def _warm(self) -> None:
        try:
            places.atlas(self._data_dir)
        except places.PlacesError:
            log.exception("places: the gazetteer cannot be built; incidents go without place")

    def search(self, text: str, *, limit: int) -> list[dict[str, Any]]:
        return [p.as_json() for p in places.search(text, limit=limit, data_dir=self._data_dir)]

    def describe(self, points: Sequence[tuple[float, float]]) -> list[dict[str, Any] | None]:
        """The ``place`` of each point (None when the gazetteer is unavailable)."""
        keys = [(round(lat, 6), round(lon, 6)) for lat, lon in points]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if missing:
            try:
                found: list[dict[str, Any] | None] = [
                    r.as_json() for r in places.reverse_many(missing, data_dir=self._data_dir)
                ]
            except places.PlacesError:
                log.exception("places: reverse geocoding unavailable")
                found = [None] * len(missing)
            with self._lock:
                for key, value in zip(missing, found, strict=True):
                    self._cache[key] = value
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        with self._lock:
            return [self._cache.get(k) for k in keys]

    def enrich(self, session: Session, incidents: list[dict[str, Any]]) -> None:
        """Add the place and the caller-location fields to incident JSON bodies, in place."""
        if not incidents:
            return
        for body, place in zip(
            incidents, self.describe([(b["lat"], b["lon"]) for b in incidents]), strict=True
        ):
            body["place"] = place
        located = caller_locations(session, incidents)
        for body in incidents:
            uncertainty, source = located.get(body["id"], (None, None))
            body["location_uncertainty_m"] = uncertainty
            body["location_source"] = source


def caller_locations(
    session: Session, incidents: Sequence[dict[str, Any]]
) -> dict[str, tuple[float | None, str | None]]:
    """Incident id -> (uncertainty, source) of the call whose position the incident took."""
    return queries.caller_locations(session, {b["id"]: (b["lat"], b["lon"]) for b in incidents})


def add_places_route(app: FastAPI, service: IncidentPlaces) -> None:
    """``GET /api/places?q=TEXT&limit=N``: the gazetteer, best first."""

    @app.get("/api/places", tags=["places"])
    def search_places(
        q: Annotated[
            str,
            Query(
                min_length=1,
                max_length=places.MAX_QUERY_CHARS,
                description="What the caller said: a place, station, road, dong or address.",
            ),
        ],
        limit: Annotated[int, Query(ge=1, le=places.MAX_LIMIT)] = 10,
    ) -> list[dict[str, Any]]:
        """Places matching ``q`` (spacing, 역/입구 and typos tolerated): name, kind, lat, lon,
        gu."""
        try:
            return service.search(q, limit=limit)
        except places.PlaceQueryError as err:
            raise HTTPException(422, str(err)) from err
        except places.PlacesError as err:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"gazetteer unavailable: {err}"
            ) from err
