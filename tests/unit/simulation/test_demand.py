"""The demand model: Seoul statistics scaled to the graph's area."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from goldentime.contracts import IncidentType
from goldentime.settings import load_settings
from simulation.demand import area_demand, read_population, read_seoul_rates
from simulation.errors import DemandDataError
from simulation.world import World


def test_area_demand_is_a_population_share_of_seoul(world: World) -> None:
    demand = world.demand
    assert 5_500 < demand.seoul.calls_per_day < 5_800  # 2.06 M a year
    assert set(demand.gu_share) >= {"종로구", "중구", "용산구", "서대문구"}
    assert all(0 < s <= 1 for s in demand.gu_share.values())
    assert 0 < demand.population_share < 0.1
    rates = demand.incidents_per_day()
    assert rates[IncidentType.EMS] == pytest.approx(
        demand.seoul.ems_per_day * demand.population_share
    )
    assert rates[IncidentType.EMS] > rates[IncidentType.RESCUE] > rates[IncidentType.BUILDING_FIRE]
    assert math.isclose(sum(demand.hourly_profile), 1.0)
    assert len(demand.hourly_profile) == 24
    assert 0.5 < demand.seoul.transport_share < 0.8


def test_calls_per_day_rescales_every_type(world: World) -> None:
    demand = world.demand
    doubled = demand.incidents_per_day(calls_per_day=2 * demand.calls_per_day)
    for kind, rate in demand.incidents_per_day().items():
        assert doubled[kind] == pytest.approx(2 * rate)


def test_bad_population_file_names_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    path.write_text('"서울특별시","계",9409466\n"종로구","계",many\n', encoding="utf-8")
    with pytest.raises(DemandDataError, match=r"pop.csv, row 2"):
        read_population(path)


def test_missing_statistics_entry_is_named(tmp_path: Path) -> None:
    stats = tmp_path / "stats.yaml"
    stats.write_text("seoul_119_calls:\n  - {year: 2018, calls: 1}\n", encoding="utf-8")
    with pytest.raises(DemandDataError, match="2018-2020 avg"):
        read_seoul_rates(stats, fires_per_year=5000, population=9_000_000)


def test_missing_gu_boundaries_raise_a_data_error(tmp_path: Path, world: World) -> None:
    source = load_settings().seoul_data_dir
    for folder in ("stats", "incidents"):
        shutil.copytree(source / folder, tmp_path / folder)
    with pytest.raises(DemandDataError, match=r"seoul_gu\.geojson"):
        area_demand(tmp_path, world.network)
