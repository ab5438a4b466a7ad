"""``GET /api/basemap/*``: the console maps' offline basemap, built once per process.

The roads come from the configured network (settings ``routing.network``/``routing.graph_path``),
at the level of detail the map's zoom asks for (see :data:`console.basemap_build.LEVELS`); the
gu boundaries from the shipped GeoJSON; the network's coverage (which gu it misses) from both.
Every body is serialised and gzip-compressed once, served with an ETag (304 on a match) and
``Content-Encoding: gzip`` to clients that accept it. :meth:`Basemap.warm` builds everything
in the background when the console starts, so the first board does not wait for it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from console.basemap_build import (
    LEVELS,
    NetworkCoverage,
    gu_geojson,
    network_coverage,
    read_gu,
    road_segments,
    roads_geojson,
    safety_centres,
)
from goldentime.settings import Settings

log = logging.getLogger(__name__)

GEOJSON = "application/geo+json"
RoadLevel = Literal["city", "district", "street"]
LEVEL_HELP = (
    "city: motorway/trunk/primary, simplified (zoom <= 12); district: + secondary/tertiary "
    "and ramps (13-14); street: every link (>= 15)."
)


@dataclass(frozen=True)
class Payload:
    """One serialised body, kept both plain and gzip-compressed."""

    raw: bytes
    gz: bytes
    etag: str
    media_type: str

    @classmethod
    def of(cls, body: Any, *, media_type: str = "application/json") -> Payload:
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(
            raw=raw,
            gz=gzip.compress(raw, compresslevel=9, mtime=0),
            etag='"' + hashlib.sha256(raw).hexdigest()[:20] + '"',
            media_type=media_type,
        )

    def response(self, request: Request) -> Response:
        headers = {
            "ETag": self.etag,
            "Cache-Control": "private, max-age=300",
            "Vary": "Accept-Encoding",
        }
        if self.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(self.gz, media_type=self.media_type, headers=headers)
        return Response(self.raw, media_type=self.media_type, headers=headers)


class Basemap:
    """The basemap bodies of one console process, each built on first use and kept."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._payloads: dict[str, Payload] = {}
        self._coverage: NetworkCoverage | None = None

    def _gu_file(self) -> Path:
        return self._settings.data.seoul_dir / "boundaries" / "seoul_gu.geojson"

    def _gu_features(self) -> list[dict[str, Any]]:
        return read_gu(self._gu_file())

    def _build_network(self) -> None:
        """Roads at every level and the network's coverage, from one load of the network."""
        from routing import load_network
        from routing.loading import network_source
        from routing.network_info import gu_coverage

        network = load_network(settings=self._settings)
        graph = network.graph
        source = network_source(settings=self._settings)
        if source.is_relative_to(self._settings.data.seoul_dir):
            source = source.relative_to(self._settings.data.seoul_dir)
        segments = road_segments(graph)
        for name, level in LEVELS.items():
            self._payloads[f"roads:{name}"] = Payload.of(
                roads_geojson(segments, level), media_type=GEOJSON
            )
        gu = gu_coverage(network, boundaries=self._gu_file())
        self._coverage = network_coverage(
            source=str(source),
            nodes=graph.number_of_nodes(),
            links=graph.number_of_edges(),
            gu_covered=gu.covered,
            gu_missing=gu.missing,
            gu_features=self._gu_features(),
        )
        self._payloads["network"] = Payload.of(self._coverage.as_json())
        log.info(
            "basemap built from %s: %s",
            source,
            ", ".join(f"{k} {len(p.gz) / 1024:.0f} KiB gz" for k, p in self._payloads.items()),
        )

    def _get(self, key: str, build: Callable[[], None]) -> Payload:
        with self._lock:
            if key not in self._payloads:
                build()
            return self._payloads[key]

    def roads(self, level: str) -> Payload:
        return self._get(f"roads:{level}", self._build_network)

    def network(self) -> Payload:
        return self._get("network", self._build_network)

    def coverage(self) -> NetworkCoverage:
        """Which gu the configured network covers (built with the roads)."""
        self.network()
        assert self._coverage is not None  # set by _build_network
        return self._coverage

    def gu(self) -> Payload:
        def build() -> None:
            self._payloads["gu"] = Payload.of(gu_geojson(self._gu_features()), media_type=GEOJSON)

        return self._get("gu", build)

    def stations(self) -> Payload:
        def build() -> None:
            units = self._settings.data.seoul_dir / "units" / "fire_units.csv"
            self._payloads["stations"] = Payload.of(safety_centres(units))

        return self._get("stations", build)

    def sizes(self) -> dict[str, dict[str, int]]:
        """Bytes of every body built so far, plain and gzip-compressed (for the docs/bench)."""
        with self._lock:
            return {k: {"raw": len(p.raw), "gzip": len(p.gz)} for k, p in self._payloads.items()}

    def warm(self) -> None:
        """Build every body now (the console calls it in a thread at start)."""
        try:
            self.gu()
            self.stations()
            self.network()
        except Exception:  # a request will raise the same error to its client
            log.exception("basemap warm-up failed; it is retried on the first request")


class GeoJSONResponse(JSONResponse):
    """GeoJSON (RFC 7946): the media type the OpenAPI document declares for the map layers."""

    media_type = GEOJSON


def add_basemap_routes(app: FastAPI, basemap: Basemap) -> None:
    @app.get("/api/basemap/gu", tags=["map"], response_class=GeoJSONResponse)
    async def basemap_gu(request: Request) -> Response:
        """Seoul gu boundaries (GeoJSON; ``properties.name`` is the gu's Korean name)."""
        return (await anyio.to_thread.run_sync(basemap.gu)).response(request)

    @app.get("/api/basemap/roads", tags=["map"], response_class=GeoJSONResponse)
    async def basemap_roads(
        request: Request,
        level: Annotated[RoadLevel, Query(description=LEVEL_HELP)] = "street",
    ) -> Response:
        """Roads of the configured routing network (GeoJSON, one feature per road class)."""
        return (await anyio.to_thread.run_sync(basemap.roads, level)).response(request)

    @app.get("/api/basemap/network", tags=["map"])
    async def basemap_network(request: Request) -> Response:
        """The configured network's source, size and coverage: the gu it does not cover
        (``gu_missing``, with ``note``) and their outline and hatch (``gaps``)."""
        return (await anyio.to_thread.run_sync(basemap.network)).response(request)

    @app.get("/api/basemap/stations", tags=["map"])
    async def basemap_stations(request: Request) -> Response:
        """The 119 safety centres (id, name, fire_station, lat, lon): station areas."""
        return (await anyio.to_thread.run_sync(basemap.stations)).response(request)
