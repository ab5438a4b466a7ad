"""The fleet: every Seoul fire station, safety centre and rescue unit, with a default fleet.

Default fleet per unit type (``fire_units.csv`` gives stations, not vehicles; this is the
usual Seoul allocation, documented in docs/dispatch.md):

- 119안전센터 (safety centre): 2 engines (펌프차) and 1 ambulance (구급차);
- 소방서 (fire station): 1 command car (지휘차) and 1 aerial ladder (고가사다리차);
- 구조대 of any kind (119, 특수, 수난, 산악): 1 rescue truck (구조공작차);
- 본부현장대응단 (HQ field response): 1 command car;
- 소방항공대 (aviation): no road vehicle, left out.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from goldentime.contracts.dispatch import UnitKind
from goldentime.errors import DataError

VEHICLE_NAMES: dict[UnitKind, tuple[str, str]] = {
    "engine": ("E", "펌프"),
    "ladder": ("L", "고가사다리"),
    "rescue": ("R", "구조"),
    "ambulance": ("A", "구급"),
    "command": ("C", "지휘"),
}


@dataclass(frozen=True, slots=True)
class Vehicle:
    unit_id: str
    station_id: str
    station_name: str
    name: str
    kind: UnitKind
    lat: float
    lon: float


def _allocation(name: str, station_type: str) -> dict[UnitKind, int]:
    if station_type == "소방서":
        return {"command": 1, "ladder": 1}
    if name.endswith("구조대"):
        return {"rescue": 1}
    if "현장대응단" in name:
        return {"command": 1}
    if name.endswith("안전센터"):
        return {"engine": 2, "ambulance": 1}
    return {}


def _station_name(row: dict[str, str]) -> str:
    name = row["name"].strip()
    parent = (row.get("parent_name") or "").strip()
    if name in {"구조대", "119구조대"} and parent:
        return f"{parent.removesuffix('소방서')}{name}"
    return name


def load_fleet(path: Path, *, station_ids: set[str] | None = None) -> list[Vehicle]:
    """Vehicles of every station in ``path`` (or only those in ``station_ids``)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read fire units {path}: {err}") from err
    fleet: list[Vehicle] = []
    for line, row in enumerate(rows, start=2):
        try:
            station_id = row["unit_id"].strip()
            lat, lon = float(row["lat"]), float(row["lon"])
            station_type = row["type"].strip()
        except (KeyError, ValueError, AttributeError) as err:
            raise DataError(f"{path}, row {line}: bad unit_id/type/lat/lon: {err}") from err
        if station_ids is not None and station_id not in station_ids:
            continue
        station = _station_name(row)
        short = station.removesuffix("119안전센터").removesuffix("소방서")
        for kind, count in _allocation(row["name"].strip(), station_type).items():
            code, label = VEHICLE_NAMES[kind]
            for n in range(1, count + 1):
                fleet.append(
                    Vehicle(
                        unit_id=f"{station_id}-{code}{n}",
                        station_id=station_id,
                        station_name=station,
                        name=f"{short} {label}{n if count > 1 else ''}".strip(),
                        kind=kind,
                        lat=lat,
                        lon=lon,
                    )
                )
    if not fleet:
        raise DataError(f"{path}: no vehicles for the selected stations")
    return fleet
