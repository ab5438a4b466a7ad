"""The real Seoul fire units (data/seoul/units/fire_units.csv) as `UnitPosition` values.

Columns: unit_id,name,type,parent_id,parent_name,x_epsg5186,y_epsg5186,lat,lon. Vehicle class
by unit: a 119 safety centre (119안전센터) -> ``engine``; a rescue team (name ending 구조대) ->
``rescue``, shown as "<parent_name> 구조대" since every one is just named 구조대; a fire station
HQ (type 소방서) and the HQ field response team (현장대응단) -> ``command``.

A simpler CSV with columns ``unit_id,lat,lon[,vehicle][,name]`` is accepted too.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from goldentime.settings import load_settings
from routing.approach_legs import Approach
from routing.errors import RoutingError
from routing.speeds import VEHICLE_CLASSES
from routing.values import UnitPosition

if TYPE_CHECKING:
    from routing.network import RoadNetwork


def default_units_path() -> Path:
    """The shipped fire-unit table."""
    return Path(load_settings().data.seoul_dir) / "units" / "fire_units.csv"


def _vehicle_and_name(row: dict[str, str]) -> tuple[str, str]:
    name = (row.get("name") or "").strip()
    if row.get("vehicle"):
        return row["vehicle"].strip(), name
    if name.endswith("구조대"):
        parent = (row.get("parent_name") or "").strip()
        return "rescue", f"{parent} {name}".strip() if name == "구조대" else name
    if (row.get("type") or "").strip() == "소방서" or "현장대응단" in name:
        return "command", name
    return "engine", name


def read_units(path: Path) -> list[UnitPosition]:
    """Every unit of a CSV file; errors name the file, row and field."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = {"unit_id", "lat", "lon"} - set(reader.fieldnames or [])
            if missing:
                raise RoutingError(f"units file {path}: missing column(s) {sorted(missing)}")
            units = [_unit(row, path, line) for line, row in enumerate(reader, start=2)]
    except OSError as err:
        raise RoutingError(f"cannot read units file {path}: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise RoutingError(f"units file {path} is not UTF-8 text: {err}") from err
    if not units:
        raise RoutingError(f"units file {path} has no units")
    return units


def _unit(row: dict[str, str], path: Path, line: int) -> UnitPosition:
    where = f"units file {path} row {line}"
    try:
        lat, lon = float(row["lat"]), float(row["lon"])
    except (TypeError, ValueError) as err:
        raise RoutingError(f"{where}: bad lat/lon {row.get('lat')!r}, {row.get('lon')!r}") from err
    vehicle, name = _vehicle_and_name(row)
    if vehicle not in VEHICLE_CLASSES:
        raise RoutingError(f"{where}: field vehicle={vehicle!r} is not one of {VEHICLE_CLASSES}")
    return UnitPosition((row.get("unit_id") or "").strip() or f"row-{line}", lat, lon,
                        vehicle, name)  # fmt: skip


def load_fire_units(
    path: Path | None = None,
    *,
    inside: RoadNetwork | None = None,
    approach_m: float | None = 0.0,
) -> list[UnitPosition]:
    """Fire units from ``path`` (default: the shipped Seoul table).

    With ``inside=net``, keep only units within the convex hull of the network's nodes and
    within its snapping distance of a road (the units that belong to this graph's area). With
    ``approach_m`` > 0 as well, also keep the units off the graph within ``approach_m`` of its
    roads: they reach it by an estimated approach leg (routing.approach_legs), so they are the real
    first-due and mutual-aid units of incidents near the graph's edge. ``approach_m`` may not
    exceed the network's own approach radius (``net.approach_rules.approach_m``); None means
    that radius: on the Seoul standard node-link network (approach radius 6.5 km, see
    routing.loading.approach_rules_for) every one of the 177 Seoul units, 강동구's included.
    """
    units = read_units(Path(path) if path is not None else default_units_path())
    if inside is None:
        return units
    if approach_m is None:
        approach_m = inside.approach_rules.approach_m
    if not 0.0 <= approach_m <= inside.approach_rules.approach_m:
        raise RoutingError(
            f"approach_m must be in [0, {inside.approach_rules.approach_m:,.0f}] (the network's "
            f"approach radius), got {approach_m}"
        )
    index = inside.index
    xs, ys = index.to_metres.transform(
        np.array([u.lon for u in units]), np.array([u.lat for u in units])
    )
    nx_, ny_ = index.to_metres.transform(inside.compiled.node_lon, inside.compiled.node_lat)
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([nx_, ny_])))
    inside_hull = shapely.contains_xy(hull, xs, ys)
    kept = []
    for unit, ok in zip(units, inside_hull, strict=True):
        if ok or approach_m > 0:
            try:
                start = inside.endpoint((unit.lat, unit.lon), vehicle=unit.vehicle)
            except RoutingError:
                continue
            if isinstance(start, Approach):
                if start.road_distance_m > approach_m:
                    continue
            elif not ok and approach_m <= 0:
                continue
            kept.append(unit)
    return kept
