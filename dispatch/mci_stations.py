"""The station area of a mass-casualty incident, by road: whose units each response level commits.

대응 1단계 commits the units of the station area (관할); 2단계 the neighbouring stations; 3단계 the
city. The area is found on the road network, not by a box around the incident: the
first-due station is the 119안전센터 whose home reaches the incident first by road
(``RoadNetwork.etas``, one reverse search from the incident), its 소방서 (``parent_name`` in
``data/seoul/units/fire_units.csv``) is the jurisdiction, and the neighbouring 소방서 are the next
ones whose nearest station reaches the incident first (``dispatch.mci.station_area``, pure).

:class:`StationAreas` reads the stations' homes and free ambulances from the units table (the
stations with ambulances: every 119안전센터) and asks the network; without a network (a tool or
test process) the ETAs are straight-line distances at :data:`CROW_SPEED_MPS`, and the reason
says so.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.incident_store import UnitRow
from dispatch.mci import StationArea, StationReach, station_area
from goldentime.contracts.dispatch import UnitStatus
from goldentime.errors import DataError
from goldentime.geo import haversine_m
from routing import RoadNetwork, RoutingError
from routing.values import UnitPosition

# Stations further than this by road from the incident are never its area nor its neighbours.
STATION_CUTOFF_S = 1_800.0
CROW_SPEED_MPS = 30 / 3.6  # an ambulance's city speed, for the straight-line fallback
NEIGHBOUR_STATIONS = 4  # 대응 2단계: 2-5 소방서, the jurisdiction and up to 4 neighbours


def load_jurisdictions(units_csv: Path) -> dict[str, str]:
    """Station id -> its 소방서 (a 소방서's own name for itself), from ``fire_units.csv``."""
    try:
        with units_csv.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read fire units {units_csv}: {err}") from err
    try:
        named = {r["unit_id"].strip(): r["name"].strip() for r in rows}
        fire_stations = {r["unit_id"].strip() for r in rows if r["type"].strip() == "소방서"}
    except (KeyError, AttributeError) as err:
        raise DataError(f"{units_csv}: bad unit_id/name/type: {err}") from err
    out: dict[str, str] = {}
    for row in rows:
        station_id, name = row["unit_id"].strip(), row["name"].strip()
        parent_id = (row.get("parent_id") or "").strip()
        if station_id in fire_stations:
            out[station_id] = name
        elif parent_id in fire_stations:
            out[station_id] = named[parent_id]
        else:  # under the city's HQ directly (회현119안전센터): its own area
            out[station_id] = (row.get("parent_name") or "").strip() or name
    return out


@dataclass(frozen=True, slots=True)
class _Station:
    station_id: str
    name: str
    lat: float
    lon: float
    free: int


@dataclass
class StationAreas:
    """``areas(session, lat, lon)``: the station area of a point (None: no station)."""

    network: RoadNetwork | None = None
    jurisdictions: Mapping[str, str] = field(default_factory=dict)
    neighbours: int = NEIGHBOUR_STATIONS

    def __call__(self, session: Session, lat: float, lon: float) -> StationArea | None:
        stations = _ambulance_stations(session)
        if not stations:
            return None
        etas, basis = self._etas((lat, lon), stations)
        reach = [
            StationReach(
                s.station_id,
                s.name,
                self.jurisdictions.get(s.station_id, s.name),
                etas.get(s.station_id),
                s.free,
            )
            for s in stations
        ]
        return station_area(reach, neighbours=self.neighbours, basis=basis)

    def _etas(
        self, at: tuple[float, float], stations: list[_Station]
    ) -> tuple[dict[str, float | None], str]:
        if self.network is not None:
            positions = [
                UnitPosition(s.station_id, s.lat, s.lon, vehicle="ambulance", name=s.name)
                for s in stations
            ]
            try:
                ranked = self.network.etas(at, positions, cutoff_s=STATION_CUTOFF_S, top_n_routes=0)
            except RoutingError:
                pass  # the incident is off the network: the straight line still ranks them
            else:
                return {e.unit_id: e.eta_s for e in ranked}, "by road"
        crow = {s.station_id: haversine_m(at[0], at[1], s.lat, s.lon) / CROW_SPEED_MPS
                for s in stations}  # fmt: skip
        return {k: v for k, v in crow.items() if v <= STATION_CUTOFF_S}, "by straight line"


def _ambulance_stations(session: Session) -> list[_Station]:
    """Every station with ambulances: its home (its ambulances'), its free ones."""
    rows = session.execute(
        select(UnitRow.station_id, UnitRow.station_name, UnitRow.home_lat, UnitRow.home_lon,
               UnitRow.status)
        .where(UnitRow.kind == "ambulance")
        .order_by(UnitRow.station_id, UnitRow.id)
    ).tuples()  # fmt: skip
    stations: dict[str, _Station] = {}
    for station_id, name, lat, lon, status in rows:
        known = stations.get(station_id) or _Station(station_id, name, lat, lon, 0)
        free = known.free + (status == UnitStatus.AVAILABLE.value)
        stations[station_id] = _Station(station_id, name, known.lat, known.lon, free)
    return list(stations.values())
