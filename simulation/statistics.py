"""Readers of the shipped Seoul statistics the demand model is built from.

- ``stats/stats_119_seoul.yaml``: calls a year, EMS activities, rescues a day, the EMS
  transport share, and Seoul's published golden-time compliance (``seoul_fire_arrival``);
- ``stats/population_by_gu_2023_08.csv``: resident population by gu (KOSIS);
- ``incidents/fires_by_gu_2021_2022.csv``: fires by gu (2021);
- ``incidents/late_fires_2021.csv``: the 905 timestamped 2021 fires (hour-of-day profile, places).

Every error names the file (and the row or field).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simulation.errors import DemandDataError

HOURS = 24


@dataclass(frozen=True, slots=True)
class SeoulRates:
    """City-wide daily figures from the statistics."""

    calls_per_day: float
    ems_per_day: float
    rescue_per_day: float
    fires_per_day: float
    transport_share: float
    population: int


@dataclass(frozen=True, slots=True)
class PublishedFigure:
    """A published share of Seoul fires reached within 7 minutes of the call."""

    period: str
    within_7min_pct: float
    source: str


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


def published_fire_arrival(stats: Path) -> list[PublishedFigure]:
    """Seoul's published 7-minute compliance for fires (``seoul_fire_arrival`` entries)."""
    entries = _read_yaml(stats).get("seoul_fire_arrival")
    if not isinstance(entries, list):
        raise DemandDataError(f"{stats}: missing list seoul_fire_arrival")
    found = [
        PublishedFigure(str(e["period"]), float(e["within_7min_pct"]), str(e.get("source", "")))
        for e in entries
        if isinstance(e, dict) and "within_7min_pct" in e and "period" in e
    ]
    if not found:
        raise DemandDataError(f"{stats}: seoul_fire_arrival has no within_7min_pct entry")
    return found


def read_fire_places(path: Path) -> list[tuple[str, float, float]]:
    """(gu, lat, lon) of the real 2021 fires (``시군구명``, ``위도``, ``경도``)."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError) as err:
        raise DemandDataError(f"cannot read fires {path}: {err}") from err
    places: list[tuple[str, float, float]] = []
    for line, row in enumerate(rows, start=2):
        try:
            places.append((row["시군구명"].strip(), float(row["위도"]), float(row["경도"])))
        except (KeyError, ValueError, AttributeError) as err:
            raise DemandDataError(f"{path}, row {line}: bad 시군구명/위도/경도") from err
    if not places:
        raise DemandDataError(f"{path}: no fires")
    return places
