"""Call demand of the simulated area, derived from the real Seoul statistics.

Method (docs/simulation.md has the figures):

- **Seoul rates** (``stats/stats_119_seoul.yaml``): 119 calls a day = the 2018-2020
  average of calls a year / 365 (about 5,644). Dispatches a day: EMS = mean of the 2018-2020
  ``ems_activities`` / 365, rescue = the 2018-2020 ``rescue_per_day``, fires = the 2021
  Seoul total of ``incidents/fires_by_gu_2021_2022.csv`` / 365. The rest of the calls need no unit
  (information, transfers, misdials, repeat callers).
- **The area** is the convex hull of the road graph's nodes. Each gu's *area share* is
  area(gu ∩ hull) / area(gu) (``boundaries/seoul_gu.geojson``, metric projection).
- **EMS and rescue** scale with population: Seoul rate x sum(pop_gu x share_gu) / Seoul
  population (``stats/population_by_gu_2023_08.csv``); within the area a gu is chosen by
  pop_gu x share_gu. **Fires** scale per gu: Seoul fire rate x sum(fires_gu x share_gu) /
  Seoul fires (2021 counts by gu).
- **Time of day**: the hour-of-day histogram of the 905 real 2021 fires
  (``incidents/late_fires_2021.csv``), smoothed over three hours (circular), is the profile of
  every type: the statistics give no hourly EMS profile, and this is the only timestamped
  real record shipped.
- **Transport**: the share of EMS dispatches that carry a patient to hospital is
  2018 H1 ``patients_transported`` / ``ems_dispatches`` (about 63 %).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml
from shapely.geometry import shape

from goldentime.contracts import IncidentType
from routing import RoadNetwork
from simulation.errors import DemandDataError

HOURS = 24
STAT_TYPES = (IncidentType.EMS, IncidentType.RESCUE, IncidentType.BUILDING_FIRE)


@dataclass(frozen=True, slots=True)
class SeoulRates:
    """City-wide daily figures from the statistics."""

    calls_per_day: float
    ems_per_day: float
    rescue_per_day: float
    fires_per_day: float
    transport_share: float
    population: int


@dataclass(frozen=True)
class AreaDemand:
    """Expected demand of the simulated area and how to place and time it."""

    seoul: SeoulRates
    gu_share: dict[str, float]  # area share of each gu inside the graph hull (> 0 only)
    gu_population_in_area: dict[str, float]
    gu_fires_in_area: dict[str, float]  # 2021 fires x area share
    hourly_profile: tuple[float, ...]  # 24 weights summing to 1
    population_share: float  # population inside / Seoul population
    fire_share: float  # fires inside / Seoul fires

    @property
    def calls_per_day(self) -> float:
        """119 calls a day in the area (Seoul calls x population share)."""
        return self.seoul.calls_per_day * self.population_share

    def incidents_per_day(self, *, calls_per_day: float | None = None) -> dict[IncidentType, float]:
        """Dispatched incidents a day by type; ``calls_per_day`` rescales all of them."""
        scale = 1.0 if calls_per_day is None else calls_per_day / self.calls_per_day
        return {
            IncidentType.EMS: self.seoul.ems_per_day * self.population_share * scale,
            IncidentType.RESCUE: self.seoul.rescue_per_day * self.population_share * scale,
            IncidentType.BUILDING_FIRE: self.seoul.fires_per_day * self.fire_share * scale,
        }

    def to_json(self) -> dict[str, Any]:
        """JSON-ready summary of the method's figures."""
        return {
            "seoul_calls_per_day": round(self.seoul.calls_per_day, 1),
            "area_calls_per_day": round(self.calls_per_day, 1),
            "population_share_pct": round(100 * self.population_share, 3),
            "fire_share_pct": round(100 * self.fire_share, 3),
            "gu_area_share_pct": {g: round(100 * s, 2) for g, s in self.gu_share.items()},
            "incidents_per_day": {
                t.value: round(r, 2) for t, r in self.incidents_per_day().items()
            },
            "transport_share_pct": round(100 * self.seoul.transport_share, 1),
        }


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise DemandDataError(f"cannot read statistics {path}: {err}") from err
    if not isinstance(loaded, dict):
        raise DemandDataError(f"{path}: expected a mapping at the top level")
    return loaded


def _entry(entries: list[dict[str, Any]], path: Path, **match: Any) -> dict[str, Any]:
    for entry in entries:
        if all(entry.get(k) == v for k, v in match.items()):
            return entry
    raise DemandDataError(f"{path}: seoul_119_calls has no entry with {match}")


def _number(entry: dict[str, Any], field: str, path: Path) -> float:
    try:
        return float(entry[field])
    except (KeyError, TypeError, ValueError) as err:
        raise DemandDataError(
            f"{path}: entry {entry.get('year') or entry.get('period')!r} "
            f"needs a number in field {field!r}"
        ) from err


def _read_csv(path: Path, *, encoding: str = "utf-8-sig") -> list[list[str]]:
    try:
        with path.open(encoding=encoding, newline="") as handle:
            return list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as err:
        raise DemandDataError(f"cannot read {path}: {err}") from err


def read_population(path: Path) -> tuple[int, dict[str, int]]:
    """(Seoul population, population by gu) from the KOSIS export."""
    seoul: int | None = None
    by_gu: dict[str, int] = {}
    for line, row in enumerate(_read_csv(path), start=1):
        if len(row) < 3 or row[1] != "계":
            continue
        try:
            value = int(row[2])
        except ValueError as err:
            raise DemandDataError(
                f"{path}, row {line}: population {row[2]!r} is not a number"
            ) from err
        if row[0] == "서울특별시":
            seoul = value
        else:
            by_gu[row[0]] = value
    if seoul is None or len(by_gu) != 25:
        raise DemandDataError(f"{path}: expected a 서울특별시 row and 25 gu rows, got {len(by_gu)}")
    return seoul, by_gu


def read_fires_by_gu(path: Path) -> tuple[int, dict[str, int]]:
    """(Seoul fires 2021, fires 2021 by gu)."""
    rows = _read_csv(path)
    if not rows or "2021_소계_발생" not in rows[0] or "자치구" not in rows[0]:
        raise DemandDataError(f"{path}: missing columns 자치구 / 2021_소계_발생")
    gu_col, count_col = rows[0].index("자치구"), rows[0].index("2021_소계_발생")
    seoul: int | None = None
    by_gu: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        try:
            value = int(row[count_col])
        except (IndexError, ValueError) as err:
            raise DemandDataError(f"{path}, row {line}: bad 2021_소계_발생") from err
        if row[gu_col] == "서울시":
            seoul = value
        else:
            by_gu[row[gu_col]] = value
    if seoul is None:
        raise DemandDataError(f"{path}: no 서울시 total row")
    return seoul, by_gu


def read_seoul_rates(stats: Path, *, fires_per_year: int, population: int) -> SeoulRates:
    """City-wide daily figures from ``stats_119_seoul.yaml``."""
    data = _read_yaml(stats)
    entries = data.get("seoul_119_calls")
    if not isinstance(entries, list):
        raise DemandDataError(f"{stats}: missing list seoul_119_calls")
    average = _entry(entries, stats, period="2018-2020 avg")
    years = [_entry(entries, stats, year=y) for y in (2018, 2019, 2020)]
    ems = sum(_number(e, "ems_activities", stats) for e in years) / len(years) / 365.0
    half = _entry(entries, stats, period="2018 H1")
    transport = _number(half, "patients_transported", stats) / _number(
        half, "ems_dispatches", stats
    )
    return SeoulRates(
        calls_per_day=_number(average, "calls_per_year", stats) / 365.0,
        ems_per_day=ems,
        rescue_per_day=_number(average, "rescue_per_day", stats),
        fires_per_day=fires_per_year / 365.0,
        transport_share=transport,
        population=population,
    )


def hourly_profile(fires_csv: Path) -> tuple[float, ...]:
    """Share of calls in each hour of the day, from the real fire timestamps (smoothed)."""
    counts = np.zeros(HOURS)
    rows = _read_csv(fires_csv, encoding="utf-8")
    if not rows or "화재발생일시" not in rows[0]:
        raise DemandDataError(f"{fires_csv}: missing column 화재발생일시")
    col = rows[0].index("화재발생일시")
    for line, row in enumerate(rows[1:], start=2):
        try:
            counts[int(row[col][11:13])] += 1
        except (IndexError, ValueError) as err:
            raise DemandDataError(
                f"{fires_csv}, row {line}: bad 화재발생일시 {row[col : col + 1]}"
            ) from err
    if counts.sum() == 0:
        raise DemandDataError(f"{fires_csv}: no fires")
    smooth = (np.roll(counts, 1) + counts + np.roll(counts, -1)) / 3.0
    return tuple(float(x) for x in smooth / smooth.sum())


def area_hull(network: RoadNetwork) -> shapely.Geometry:
    """Convex hull of the graph's nodes, in the network's metric projection."""
    index = network.index
    nodes = [network.graph.nodes[int(n)] for n in network.compiled.node_ids]
    xs, ys = index.to_metres.transform(
        np.array([d["x"] for d in nodes]), np.array([d["y"] for d in nodes])
    )
    return shapely.convex_hull(shapely.multipoints(np.column_stack([xs, ys])))


def gu_polygons(path: Path, network: RoadNetwork) -> dict[str, shapely.Geometry]:
    """Gu name -> polygon in the network's metric projection."""
    try:
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        polygons = {f["properties"]["SIG_KOR_NM"]: shape(f["geometry"]) for f in features}
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DemandDataError(f"cannot read gu boundaries {path}: {err}") from err
    project = network.index._project
    return {name: shapely.transform(poly, project) for name, poly in polygons.items()}


def area_demand(seoul_data_dir: Path, network: RoadNetwork) -> AreaDemand:
    """The demand of the road graph's area from the shipped statistics."""
    population, pop_by_gu = read_population(
        seoul_data_dir / "stats" / "population_by_gu_2023_08.csv"
    )
    fires, fires_by_gu = read_fires_by_gu(
        seoul_data_dir / "incidents" / "fires_by_gu_2021_2022.csv"
    )
    seoul = read_seoul_rates(
        seoul_data_dir / "stats" / "stats_119_seoul.yaml",
        fires_per_year=fires,
        population=population,
    )
    hull = area_hull(network)
    shares: dict[str, float] = {}
    for name, poly in gu_polygons(
        seoul_data_dir / "boundaries" / "seoul_gu.geojson", network
    ).items():
        share = float(shapely.area(shapely.intersection(poly, hull)) / shapely.area(poly))
        if share > 1e-4:
            shares[name] = share
    missing = set(shares) - set(pop_by_gu) | set(shares) - set(fires_by_gu)
    if missing:
        raise DemandDataError(f"gu {sorted(missing)} has no population or fire count")
    pop_in = {g: pop_by_gu[g] * s for g, s in shares.items()}
    fires_in = {g: fires_by_gu[g] * s for g, s in shares.items()}
    return AreaDemand(
        seoul=seoul,
        gu_share=shares,
        gu_population_in_area=pop_in,
        gu_fires_in_area=fires_in,
        hourly_profile=hourly_profile(seoul_data_dir / "incidents" / "late_fires_2021.csv"),
        population_share=sum(pop_in.values()) / population,
        fire_share=sum(fires_in.values()) / fires,
    )
