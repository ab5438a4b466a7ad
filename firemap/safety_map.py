"""The loaded safety map and its one query, ``near``.

:func:`load_map` loads every layer once per data directory and caches the result, so dispatch
can call ``load_map().near(...)`` for every assignment. Distances are measured in EPSG:5186.

Responsible station: the nearest 119 safety centre (안전센터) in a straight line, and the fire
station (소방서) it belongs to (``parent_name`` of the unit table). Jurisdiction polygons are
not published with the data; the nearest centre is what a dispatcher checks first, and the
road-time answer comes from `routing`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapely

from firemap.access import (
    FLAGGED_DEVICE_RADIUS_M,
    VEHICLE_SPECS,
    DevicePoint,
    VehicleSpec,
    is_node_link,
    vehicle_restrictions,
)
from firemap.catalog import LAYERS, USABLE_STATES
from firemap.errors import FiremapQueryError, Reject
from firemap.index import SpatialIndex, TreeIndex
from firemap.layers import Feature, LoadedLayer, load_layer
from firemap.models import (
    CctvHit,
    DeviceHit,
    EmergencyRoomHit,
    HazardHit,
    HydrantHit,
    NearResult,
    Restriction,
    Station,
)
from firemap.scene_access import RoadAccess
from firemap.sources import inside_seoul, seoul_reason, to_metric
from goldentime.boundaries import Boundaries

log = logging.getLogger(__name__)

MAX_RADIUS_M = 5_000.0
EMERGENCY_ROOMS_SHOWN = 3
STATION_RULE = "nearest 119 safety centre in a straight line; fire station = its parent unit"

IndexFactory = Callable[[np.ndarray[Any, Any]], SpatialIndex]


def _metric_geoms(features: Sequence[Feature]) -> np.ndarray[Any, Any]:
    points = [f for f in features if f.line is None]
    if len(points) == len(features):
        xs, ys = to_metric(
            np.array([f.lon for f in features], dtype=np.float64),
            np.array([f.lat for f in features], dtype=np.float64),
        )
        return np.asarray(shapely.points(xs, ys), dtype=object)
    geoms = []
    for f in features:
        coords = f.line or ((f.lon, f.lat),)
        xs, ys = to_metric(
            np.array([c[0] for c in coords], dtype=np.float64),
            np.array([c[1] for c in coords], dtype=np.float64),
        )
        geoms.append(
            shapely.LineString(np.column_stack([xs, ys]))
            if len(xs) > 1
            else shapely.Point(xs[0], ys[0])
        )
    return np.array(geoms, dtype=object)


class _IndexedLayer:
    def __init__(self, loaded: LoadedLayer, index_factory: IndexFactory) -> None:
        self.loaded = loaded
        self.features = loaded.features
        self.index = index_factory(_metric_geoms(loaded.features))

    def within(self, x: float, y: float, radius_m: float) -> list[tuple[Feature, float]]:
        idx, dist = self.index.within(x, y, radius_m)
        return [(self.features[i], round(float(d), 1)) for i, d in zip(idx, dist, strict=True)]

    def nearest(self, x: float, y: float, k: int) -> list[tuple[Feature, float]]:
        idx, dist = self.index.nearest(x, y, k)
        return [(self.features[i], round(float(d), 1)) for i, d in zip(idx, dist, strict=True)]


def merge_devices(seoul: LoadedLayer, songpa: LoadedLayer) -> LoadedLayer:
    """Seoul devices, enriched with the Songpa file's zone/state where the serial matches."""
    extra = {f.id: f for f in songpa.features}
    merged = []
    for f in seoul.features:
        props: dict[str, Any] = {
            "zone": None,
            "no_engine_access": False,
            "state": None,
            "address": None,
        }
        props.update(f.props)
        if f.id in extra:
            props.update(extra.pop(f.id).props)
        merged.append(dataclasses.replace(f, props=props))
    merged += [dataclasses.replace(f, layer=seoul.spec.name) for f in extra.values()]
    return dataclasses.replace(
        seoul, features=tuple(merged), rejects=seoul.rejects + songpa.rejects
    )


class SafetyMap:
    """All layers, indexed; build with :meth:`from_directory` or :func:`load_map`."""

    def __init__(
        self,
        *,
        layers: Mapping[str, LoadedLayer],
        boundaries: Boundaries,
        graph: nx.MultiDiGraph | None = None,
        vehicle_specs: Mapping[str, VehicleSpec] = VEHICLE_SPECS,
        index_factory: IndexFactory = TreeIndex,
    ) -> None:
        self.loaded = dict(layers)
        self.boundaries = boundaries
        self.vehicle_specs = dict(vehicle_specs)
        devices = merge_devices(layers["fire_devices"], layers["songpa_devices"])
        self._layers = {
            name: _IndexedLayer(layer, index_factory)
            for name, layer in {**layers, "fire_devices": devices}.items()
            if name != "songpa_devices"
        }
        units = layers["fire_units"]
        centres = tuple(
            f for f in units.features if str(f.props.get("name", "")).endswith("안전센터")
        )
        self._centres = _IndexedLayer(dataclasses.replace(units, features=centres), index_factory)
        self.graph = graph
        self.node_link = graph is not None and is_node_link(graph)  # no alleys, no widths
        self.restrictions: dict[str, frozenset[Any]] = {}
        self.road_access: RoadAccess | None = None
        if graph is not None:
            self.restrictions = vehicle_restrictions(
                graph, devices=self.device_points(), vehicle_specs=self.vehicle_specs
            )
            self.road_access = RoadAccess(
                graph, forbidden=self.restrictions, vehicle_specs=self.vehicle_specs
            )

    @classmethod
    def from_directory(
        cls,
        data_dir: Path,
        *,
        graph: nx.MultiDiGraph | None = None,
        lenient: bool = True,
        index_factory: IndexFactory = TreeIndex,
    ) -> SafetyMap:
        """Load the shipped layers from ``data_dir`` (the Seoul data folder).

        Lenient by default: a bad row is logged and listed in :attr:`rejects`, the rest loads.
        ``graph``: the road graph to assess per-vehicle access on (``dispatch.map_roads`` gives
        the configured network's); without one the map answers without road access.
        """
        layers = {
            name: load_layer(spec, data_dir / spec.filename, lenient=lenient)
            for name, spec in LAYERS.items()
        }
        for layer in layers.values():
            for reject in layer.rejects:
                log.warning("firemap: rejected %s", reject)
        return cls(
            layers=layers, boundaries=Boundaries(data_dir), graph=graph, index_factory=index_factory
        )

    @property
    def rejects(self) -> list[Reject]:
        return [r for layer in self.loaded.values() for r in layer.rejects]

    def feature_count(self) -> int:
        return sum(len(layer.features) for layer in self._layers.values())

    def layer_index(self, name: str) -> tuple[Sequence[Feature], SpatialIndex]:
        """The features of an indexed layer and its spatial index (EPSG:5186 metres)."""
        layer = self._layers[name]
        return layer.features, layer.index

    def device_points(self) -> list[DevicePoint]:
        return [
            DevicePoint(f.lat, f.lon, bool(f.props.get("no_engine_access")))
            for f in self._layers["fire_devices"].features
        ]

    def near(self, lat: float, lon: float, *, radius_m: float = 200.0) -> NearResult:
        """Everything within ``radius_m`` of (lat, lon), plus district, station and ERs."""
        if not (math.isfinite(lat) and math.isfinite(lon)) or not inside_seoul(lat, lon):
            raise FiremapQueryError(seoul_reason(lat, lon), field="lat,lon")
        if not (math.isfinite(radius_m) and 0 < radius_m <= MAX_RADIUS_M):
            raise FiremapQueryError(
                f"radius {radius_m} m must be in (0, {MAX_RADIUS_M:.0f}]", field="radius_m"
            )
        xs, ys = to_metric(np.array([lon]), np.array([lat]))
        x, y = float(xs[0]), float(ys[0])
        areas = self.boundaries.locate(lat, lon)
        gu, dong, legal = areas["gu"], areas["admin_dong"], areas["legal_dong"]

        usable: list[HydrantHit] = []
        unusable: list[HydrantHit] = []
        for f, d in self._layers["hydrants"].within(x, y, radius_m):
            p = f.props
            hit = HydrantHit(
                id=f.id,
                lat=f.lat,
                lon=f.lon,
                distance_m=d,
                state=p["state"],
                kind=p["kind"],
                form=p["form"],
                number=p["number"],
                pressure=p["pressure"],
                address=p["address"],
            )
            (usable if p["state"] in USABLE_STATES else unusable).append(hit)

        devices = [
            DeviceHit(
                id=f.id,
                lat=f.lat,
                lon=f.lon,
                distance_m=d,
                zone=f.props["zone"],
                no_engine_access=f.props["no_engine_access"],
                state=f.props["state"],
                address=f.props["address"],
            )
            for f, d in self._layers["fire_devices"].within(
                x, y, max(radius_m, FLAGGED_DEVICE_RADIUS_M)
            )
            if d <= radius_m or f.props["no_engine_access"]
        ]
        hazards = self._hazards(x, y, radius_m, devices)
        cctv = [
            CctvHit(
                id=f.id,
                lat=f.lat,
                lon=f.lon,
                distance_m=d,
                cameras=f.props["cameras"],
                address=f.props["address"],
            )
            for f, d in self._layers["cctv"].within(x, y, radius_m)
        ]
        ers = [
            EmergencyRoomHit(
                id=f.id,
                lat=f.lat,
                lon=f.lon,
                distance_m=d,
                name=f.props["name"],
                er_class=f.props["er_class"],
                er_phone=f.props["er_phone"],
            )
            for f, d in self._layers["emergency_rooms"].nearest(x, y, EMERGENCY_ROOMS_SHOWN)
        ]
        restrictions = self._restrictions(x, y, devices)
        coverage = []
        if gu is None or gu.name != "송파구":
            coverage.append("hydrant and device-zone data cover Songpa-gu only")
        if gu is None or gu.name != "강남구":
            coverage.append("CCTV data cover Gangnam-gu only")
        coverage.extend(self._access_coverage(restrictions))
        return NearResult(
            lat=lat,
            lon=lon,
            radius_m=radius_m,
            gu=gu.name if gu else None,
            gu_code=gu.code if gu else None,
            dong=dong.name if dong else None,
            legal_dong=legal.name if legal else None,
            station=self._station(x, y),
            hydrants=usable,
            hydrants_unusable=unusable,
            devices=devices,
            hazards=hazards,
            restrictions=restrictions,
            cctv=cctv,
            emergency_rooms=ers,
            coverage=coverage,
        )

    def _hazards(
        self, x: float, y: float, radius_m: float, devices: Iterable[DeviceHit]
    ) -> list[HazardHit]:
        hazards = []
        for f, d in self._layers["bridges"].within(x, y, radius_m):
            p = f.props
            hazards.append(
                HazardHit(
                    id=f.id,
                    lat=f.lat,
                    lon=f.lon,
                    distance_m=d,
                    kind="bridge",
                    severity="warning" if p["grade"] >= "C" else "info",
                    name=p["name"],
                    detail=f"bridge, safety grade {p['grade']} (inspected {p['inspected']}), "
                    f"load limit {p['load_limit_t']} t, width {p['width_m']} m",
                )
            )
        for dev in devices:
            if dev.no_engine_access:
                hazards.append(
                    HazardHit(
                        id=dev.id,
                        lat=dev.lat,
                        lon=dev.lon,
                        distance_m=dev.distance_m,
                        kind="no_engine_access",
                        severity="warning",
                        name=dev.address,
                        detail=f"emergency fire device in a zone marked {dev.zone}: "
                        "fire engines cannot get in, lay hose from the device",
                    )
                )
        return sorted(hazards, key=lambda h: h.distance_m)

    def _access_coverage(self, restrictions: Sequence[Restriction]) -> list[str]:
        """What the road data behind the access answers lacks, here."""
        if self.road_access is None:
            return ["no road network loaded: vehicle access not assessed"]
        off = any(r.access == "outside_graph" for r in restrictions)
        if not self.node_link:
            central = "vehicle access is assessed on the central-Seoul road graph only"
            return [central] if off else []
        lines = [
            "vehicle access is assessed on the standard node-link network: it has no alleys "
            "and no road widths (a scene in an alley: expect the last stretch by hose)"
        ]
        if off:
            lines.append(
                "no road of the network within reach: 강동구 is not in the standard node-link "
                "network (its units and incidents use an estimated approach leg)"
            )
        return lines

    def _restrictions(self, x: float, y: float, devices: Sequence[DeviceHit]) -> list[Restriction]:
        flagged = [d for d in devices if d.no_engine_access]
        out = []
        for name, spec in self.vehicle_specs.items():
            access = None if self.road_access is None else self.road_access.scene(x, y, name)
            if access is None or access.access == "outside_graph":
                message = access.message if access else "no road graph loaded: access not assessed"
                if flagged and spec.required_width_m > 3.0:
                    message += (
                        f"; device zone marked {flagged[0].zone} {flagged[0].distance_m:.0f}"
                        " m away: expect to lay hose"
                    )
                out.append(
                    Restriction(
                        vehicle=name,
                        access="outside_graph",
                        required_width_m=spec.required_width_m,
                        hose_m=None,
                        stop_lat=None,
                        stop_lon=None,
                        street=None,
                        message=message,
                    )
                )
                continue
            message = access.message
            if self.node_link and flagged and spec.required_width_m > 3.0:
                message += (  # the network has no alleys: the device zone is the evidence
                    f"; device zone marked {flagged[0].zone} {flagged[0].distance_m:.0f} m away: "
                    "the alley is not in the network, expect to lay hose"
                )
            out.append(
                Restriction(
                    vehicle=name,
                    access=access.access,
                    required_width_m=spec.required_width_m,
                    hose_m=access.hose_m,
                    stop_lat=access.stop_lat,
                    stop_lon=access.stop_lon,
                    street=access.street,
                    message=message,
                )
            )
        return out

    def _station(self, x: float, y: float) -> Station | None:
        nearest = self._centres.nearest(x, y, 3)
        if not nearest:
            return None
        centre, distance = nearest[0]
        return Station(
            centre_id=centre.id,
            centre=str(centre.props["name"]),
            lat=centre.lat,
            lon=centre.lon,
            distance_m=distance,
            fire_station=centre.props["parent_name"],
            fire_station_id=centre.props["parent_id"],
            rule=STATION_RULE,
            alternatives=[f"{f.props['name']} ({d:.0f} m)" for f, d in nearest[1:]],
        )


@lru_cache(maxsize=4)
def _cached_map(data_dir: Path) -> SafetyMap:
    return SafetyMap.from_directory(data_dir)


def load_map(data_dir: Path | str | None = None) -> SafetyMap:
    """The safety map of ``data_dir`` (default ``settings.data.seoul_dir``), loaded once,
    without road access (see :meth:`SafetyMap.from_directory`'s ``graph``)."""
    if data_dir is None:
        from goldentime.settings import load_settings

        data_dir = load_settings().data.seoul_dir
    return _cached_map(Path(data_dir).resolve())
