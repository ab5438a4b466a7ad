"""Where is the caller? The Seoul gazetteer and reverse geocoding.

A call-taker cannot type coordinates. This package builds, from the shipped Seoul data, a
gazetteer of every named place (the standard network's intersections and landmarks such as
강남역 and 서울시청, road names, gu and dong, fire stations and safety centres, emergency
rooms, bridges, tunnels, CCTV and hydrant addresses) searched the way people type Korean
(spacing, 역/입구 variants, jamo-level typos), and reverse-geocodes a point into gu, dong,
the nearest named intersection and the road.

- ``search(text, *, limit=10) -> list[Place]``: best first; ``Place.as_json()`` is
  ``{name, kind, lat, lon, gu}`` (``goldentime place search``, ``GET /api/places``);
- ``reverse(lat, lon) -> Reverse`` and ``reverse_many(points)``: ``Reverse.as_json()`` is the
  ``place`` of an incident in the console API;
- ``atlas(data_dir=None)``: both, built once per process and data directory (lazily).

See docs/places.md.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from places.build import Atlas, build_atlas
from places.errors import PlaceQueryError, PlacesDataError, PlacesError
from places.gazetteer import KINDS, MAX_QUERY_CHARS, Gazetteer, Place
from places.reverse import Reverse, ReverseGeocoder

__all__ = [
    "KINDS",
    "MAX_QUERY_CHARS",
    "Atlas",
    "Gazetteer",
    "Place",
    "PlaceQueryError",
    "PlacesDataError",
    "PlacesError",
    "Reverse",
    "ReverseGeocoder",
    "atlas",
    "reverse",
    "reverse_many",
    "search",
]

MAX_LIMIT = 50
_lock = threading.Lock()


@lru_cache(maxsize=4)
def _cached_atlas(data_dir: Path) -> Atlas:
    return build_atlas(data_dir)


def atlas(data_dir: Path | str | None = None) -> Atlas:
    """The gazetteer and geocoder of ``data_dir`` (default ``settings.data.seoul_dir``)."""
    if data_dir is None:
        from goldentime.settings import load_settings

        data_dir = load_settings().data.seoul_dir
    with _lock:  # two first requests at once build it once
        return _cached_atlas(Path(data_dir).resolve())


def search(text: str, *, limit: int = 10, data_dir: Path | str | None = None) -> list[Place]:
    """Places matching ``text``, best first. PlaceQueryError on a bad query or limit."""
    if not isinstance(text, str) or not text.strip():
        raise PlaceQueryError("q: the text to look for is empty", field="q")
    if len(text) > MAX_QUERY_CHARS:
        raise PlaceQueryError(f"q: at most {MAX_QUERY_CHARS} characters", field="q")
    if not 1 <= limit <= MAX_LIMIT:
        raise PlaceQueryError(f"limit: between 1 and {MAX_LIMIT}, not {limit}", field="limit")
    return atlas(data_dir).gazetteer.search(text, limit=limit)


def reverse(lat: float, lon: float, *, data_dir: Path | str | None = None) -> Reverse:
    """Gu, dong, nearest named intersection and road of a WGS84 point."""
    return reverse_many([(lat, lon)], data_dir=data_dir)[0]


def reverse_many(
    points: Sequence[tuple[float, float]], *, data_dir: Path | str | None = None
) -> list[Reverse]:
    """:func:`reverse` for many points in one vectorised pass."""
    return atlas(data_dir).geocoder.reverse_many(points)
