"""The demand model: Seoul statistics split per gu over the network's area."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from goldentime.contracts import IncidentType
from goldentime.settings import load_settings
from routing import load_network
from simulation.demand import Surge, city_demand
from simulation.errors import DemandDataError, SimulationError
from simulation.statistics import published_fire_arrival, read_population, read_seoul_rates
from simulation.world import World


def test_seoul_wide_demand_is_every_gu_at_the_real_rates(world: World) -> None:
    demand = world.demand
    assert demand.city_wide
    assert len(demand.gus) == 25 and all(g.share == 1.0 for g in demand.gus.values())
    assert [g for g, a in demand.gus.items() if not a.on_network] == ["강동구"]
    assert 5_500 < demand.seoul.calls_per_day < 5_800  # 2.06 M a year
    assert demand.population_share == pytest.approx(1.0)
    rates = demand.incidents_per_day()
    assert 1_300 < rates[IncidentType.EMS] < 1_500
    assert 380 < rates[IncidentType.RESCUE] < 420
    assert 12 < rates[IncidentType.BUILDING_FIRE] < 18
    assert 1_750 < sum(rates.values()) < 2_000
    per_day = demand.per_day()
    songpa, jung = demand.gus["송파구"], demand.gus["중구"]
    assert per_day["송파구"][IncidentType.EMS] / per_day["중구"][IncidentType.EMS] == pytest.approx(
        songpa.population / jung.population
    )
    assert per_day["송파구"][IncidentType.BUILDING_FIRE] / per_day["중구"][
        IncidentType.BUILDING_FIRE
    ] == pytest.approx(songpa.fires_per_year / jung.fires_per_year)
    assert math.isclose(sum(demand.hourly_profile), 1.0)
    assert 0.5 < demand.transport_share < 0.8
    hour = demand.expected(17)
    assert sum(hour.values()) == pytest.approx(sum(rates.values()) * demand.hourly_profile[17])


def test_central_graph_counts_gu_by_area_share() -> None:
    settings = load_settings()
    demand = city_demand(settings.data.seoul_dir, load_network(network="central"))
    assert not demand.city_wide
    assert set(demand.gus) >= {"종로구", "중구", "용산구", "서대문구"}
    assert all(0 < g.share < 1 for g in demand.gus.values())
    assert 0 < demand.population_share < 0.1


def test_calls_per_day_rescales_and_surge_multiplies(world: World) -> None:
    demand = world.demand
    doubled = demand.with_calls_per_day(2 * demand.calls_per_day)
    for kind, rate in demand.incidents_per_day().items():
        assert doubled.incidents_per_day()[kind] == pytest.approx(2 * rate)
    surge = Surge(demand, 3.0, gus=frozenset({"마포구"}), hours=(18, 20))
    base, hot, later = demand.expected(18), surge.expected(18), surge.expected(20)
    assert hot[("마포구", IncidentType.EMS)] == pytest.approx(
        3 * base[("마포구", IncidentType.EMS)]
    )
    assert hot[("중구", IncidentType.EMS)] == base[("중구", IncidentType.EMS)]
    assert later == demand.expected(20)
    with pytest.raises(SimulationError, match="calls per day"):
        demand.with_calls_per_day(-5)


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
    with pytest.raises(DemandDataError, match="seoul_fire_arrival"):
        published_fire_arrival(stats)


def test_published_figures_are_read(world: World) -> None:
    assert {p.within_7min_pct for p in world.published} >= {92.6, 93.4}


def test_missing_gu_boundaries_raise_a_data_error(tmp_path: Path, world: World) -> None:
    source = load_settings().data.seoul_dir
    for folder in ("stats", "incidents"):
        shutil.copytree(source / folder, tmp_path / folder)
    with pytest.raises(DemandDataError, match=r"seoul_gu\.geojson"):
        city_demand(tmp_path, world.network)
