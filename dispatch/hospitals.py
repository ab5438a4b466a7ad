"""Emergency rooms (Seoul, 2024-04) with their level, for EMS destinations.

Levels, best first: 권역응급의료센터 (regional centre), 지역응급의료센터 (local centre),
지역응급의료기관 (local institution), 응급의료시설 (facility). Cardiac arrest goes to a centre
when one is within reach. The description columns of the source are garbled upstream and are
never read.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from goldentime.errors import DataError

LEVELS = ("권역응급의료센터", "지역응급의료센터", "지역응급의료기관", "응급의료시설")


@dataclass(frozen=True, slots=True)
class Hospital:
    hospital_id: str
    name: str
    level: str
    lat: float
    lon: float

    @property
    def rank(self) -> int:
        return LEVELS.index(self.level) if self.level in LEVELS else len(LEVELS)

    @property
    def is_centre(self) -> bool:
        return self.rank <= 1


def load_hospitals(path: Path) -> list[Hospital]:
    """Every emergency room that operates one (응급실운영여부 = 1)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read emergency rooms {path}: {err}") from err
    hospitals = []
    for line, row in enumerate(rows, start=2):
        try:
            if row["응급실운영여부"].strip() != "1":
                continue
            hospitals.append(
                Hospital(
                    hospital_id=row["기관ID"].strip(),
                    name=row["기관명"].strip(),
                    level=row["응급의료기관코드명"].strip(),
                    lat=float(row["병원위도"]),
                    lon=float(row["병원경도"]),
                )
            )
        except (KeyError, ValueError, AttributeError) as err:
            raise DataError(f"{path}, row {line}: bad emergency-room row: {err}") from err
    return hospitals
