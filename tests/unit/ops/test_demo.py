from __future__ import annotations

from pathlib import Path

import pytest

from goldentime.errors import DataError
from goldentime.settings import load_settings
from ops.demo import SEOUL_EXTENT, build_scenario, load_fires, scenario_for

DATA = load_settings().data.seoul_dir
FIRES = DATA / "incidents" / "late_fires_2021.csv"
HEADER = "index,시군구명,읍면동명,경도,위도,출동소요시간,화재발생일시"


def test_the_demo_plays_every_late_fire_of_the_city() -> None:
    fires = load_fires(FIRES)
    assert len(fires) == 905
    gu = {f["시군구명"] for f in fires}
    assert len(gu) == 25 and "강동구" in gu  # not only the old central box
    scenario = scenario_for(DATA, calls=None, run_id="t")
    first_callers = [c for c in scenario if not c.body["id"].endswith("-b")]
    assert len(first_callers) == 905
    assert 1.2 * 905 < len(scenario) < 1.5 * 905, "some fires get a second caller"
    offsets = [c.offset_s for c in scenario]
    assert offsets == sorted(offsets)
    ids = [c.body["id"] for c in scenario]
    assert len(set(ids)) == len(ids)
    south, west, north, east = SEOUL_EXTENT
    for item in scenario:
        assert south <= item.body["lat"] <= north and west <= item.body["lon"] <= east
    lats = [c.body["lat"] for c in first_callers]
    assert min(lats) < 37.47 and max(lats) > 37.65  # from Gwanak/Seocho to Dobong/Nowon


def test_calls_caps_the_scenario_and_a_box_still_filters() -> None:
    fires = load_fires(FIRES)
    scenario = build_scenario(fires, calls=40, run_id="t")
    assert len(scenario) == 40
    central = load_fires(FIRES, (37.5442, 126.9499, 37.5891, 127.0066))
    assert 50 <= len(central) <= 70


def test_scenario_is_deterministic() -> None:
    assert scenario_for(DATA, calls=10, run_id="x") == scenario_for(DATA, calls=10, run_id="x")


def test_a_broken_fire_row_is_a_data_error_naming_the_row(tmp_path: Path) -> None:
    bad = tmp_path / "fires.csv"
    bad.write_text(f"{HEADER}\n1,중구,명동,126.98,37.56,300,2021-01-01 00:00:00\n"
                   "2,중구,명동,126.98,,300,2021-01-02 00:00:00\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(DataError, match="row 3: bad 위도/경도"):
        load_fires(bad)
    busan = "1,중구,중앙동,129.03,35.10,300,2021-01-01 00:00:00"
    bad.write_text(f"{HEADER}\n{busan}\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"row 2: .* is not in Seoul"):
        load_fires(bad)
    with pytest.raises(DataError, match="cannot read"):
        load_fires(tmp_path / "missing.csv")
