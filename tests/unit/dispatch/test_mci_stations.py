"""The station area of an MCI by road: the first-due station's 소방서 (대응 1단계) and the
neighbouring 소방서 (2단계) in road-ETA order; the level proposal names them; three witnesses
of several people are grounds for 2단계. Pure rules, plus the live reader on SQLite and the
Seoul network (이태원동 -> 이태원119안전센터 of 용산소방서)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dispatch.context import fleet_for, road_network
from dispatch.incident_store import UnitRow
from dispatch.mci import (
    CasualtyEstimate,
    MciRules,
    StationReach,
    propose_level,
    station_area,
)
from dispatch.mci_stations import StationAreas, load_jurisdictions
from dispatch.unit_store import seed_units
from goldentime.db import create_schema, make_engine, session_factory
from goldentime.errors import ContractError
from goldentime.settings import load_settings

NOW = datetime(2026, 10, 29, 13, 30, tzinfo=UTC)
ITAEWON = (37.5345, 126.9945)


def reach(station: str, parent: str, eta_min: float | None, free: int = 1) -> StationReach:
    return StationReach(
        station, f"{station}119안전센터", parent, None if eta_min is None else eta_min * 60, free
    )


STATIONS = [
    reach("B", "용산소방서", 3.0),
    reach("A", "용산소방서", 1.5),  # first-due
    reach("C", "용산소방서", None, free=0),  # no road within the search: still its area's
    reach("D", "중부소방서", 4.0, free=1),
    reach("E", "중부소방서", 9.0, free=2),
    reach("F", "서초소방서", 5.0, free=3),
    reach("G", "종로소방서", 6.0, free=4),
    reach("H", "마포소방서", 6.5, free=5),
    reach("I", "강남소방서", 7.0, free=6),
]


def estimate(n: int) -> CasualtyEstimate:
    return CasualtyEstimate(calls=n, distinct_callers=n, estimate=n, reason="")


def test_the_first_due_station_by_road_names_the_jurisdiction_and_its_neighbours() -> None:
    area = station_area(STATIONS, neighbours=3)
    assert area is not None
    assert area.first_due.station_id == "A" and area.jurisdiction == "용산소방서"
    assert (area.stations, area.ambulances) == (3, 2)  # A, B and C; C's ambulance is out
    # neighbours in the order their nearest station reaches the incident; all their ambulances
    assert [(n.name, n.eta_s, n.free_ambulances) for n in area.neighbours] == [
        ("중부소방서", 240.0, 3),
        ("서초소방서", 300.0, 3),
        ("종로소방서", 360.0, 4),
    ]
    assert area.neighbour_ambulances == 10
    assert area.words() == (
        "관할 용산소방서 (first-due A119안전센터, 1.5 min by road): 2 free ambulances in its "
        "3 stations"
    )
    assert area.neighbour_words().startswith(
        "neighbouring stations by road (ETA, free ambulances): 중부소방서 (4.0 min, 3), "
    )
    assert station_area([reach("A", "용산소방서", None)]) is None
    # what a confirmed level commits: 1 the jurisdiction's stations, 2 and the neighbours', 3 all
    assert area.scope(1) == frozenset({"A", "B", "C"})
    assert area.scope(2) == frozenset("ABCDEFG")
    assert area.scope(3) is None
    assert (
        area.scope_words(2)
        == "관할 용산소방서 and the neighbouring 중부소방서, 서초소방서, 종로소방서"
    )
    with pytest.raises(ContractError):
        area.scope(4)
    with pytest.raises(ContractError):
        station_area(STATIONS, neighbours=-1)


def test_the_level_reason_says_which_stations_and_why() -> None:
    area = station_area(STATIONS, neighbours=3)
    assert area is not None
    calm = propose_level(estimate(2), calls_per_10min=2, station_area=area)
    assert calm.level == 1
    assert "station area 관할 용산소방서 (first-due A119안전센터, 1.5 min by road)" in calm.reason
    short = propose_level(estimate(3), calls_per_10min=3, station_area=area)
    assert short.level == 2
    assert "3 casualties exceed the 2 free ambulances of 관할 용산소방서" in short.reason
    assert (
        "neighbouring stations by road" in short.reason
        and "중부소방서 (4.0 min, 3)" in short.reason
    )
    # more than 대응 2단계's stations have free (2 + 10): the city
    city = propose_level(estimate(13), calls_per_10min=3, station_area=area)
    assert city.level == 3
    assert "13 casualties exceed the 12 free ambulances of 대응 2단계's stations" in city.reason
    # the station area replaces the count given without it
    assert (
        propose_level(estimate(3), calls_per_10min=3, station_area=area, area_ambulances=40).level
        == 2
    )
    with pytest.raises(ContractError) as err:
        propose_level(estimate(3), calls_per_10min=3)
    assert err.value.field == "area_ambulances"


def test_three_witnesses_of_several_people_are_grounds_for_level_2() -> None:
    three = CasualtyEstimate(calls=3, distinct_callers=3, estimate=3, reason="")
    assert propose_level(three, calls_per_10min=3, area_ambulances=6, witnesses=2).level == 1
    proposal = propose_level(three, calls_per_10min=3, area_ambulances=6, witnesses=3)
    assert proposal.level == 2
    assert "3 callers each report several people down within 10 min of one spot" in proposal.reason
    assert "(level 2 from 3)" in proposal.reason
    strict = MciRules(level2_witnesses=4)
    assert (
        propose_level(three, calls_per_10min=3, area_ambulances=6, witnesses=3, rules=strict).level
        == 1
    )
    with pytest.raises(ContractError):
        MciRules(level2_witnesses=1)
    with pytest.raises(ContractError):
        propose_level(three, calls_per_10min=3, area_ambulances=6, witnesses=-1)


def test_jurisdictions_of_the_seoul_stations() -> None:
    units = load_settings().data.seoul_dir / "units" / "fire_units.csv"
    jurisdictions = load_jurisdictions(units)
    names = {name for name in jurisdictions.values() if name.endswith("소방서")}
    assert len(names) == 24  # Seoul's 24 소방서
    by_name = {v: k for k, v in jurisdictions.items()}
    assert jurisdictions[by_name["용산소방서"]] == "용산소방서"


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    return session_factory(engine)


def test_itaewon_station_area_on_the_seoul_network(sessions: sessionmaker[Session]) -> None:
    settings = load_settings()
    network = road_network(settings)
    units_csv = settings.data.seoul_dir / "units" / "fire_units.csv"
    with sessions.begin() as session:
        seed_units(session, fleet_for(network, units_csv), now=NOW)
    areas = StationAreas(network, load_jurisdictions(units_csv))
    with sessions() as session:
        area = areas(session, *ITAEWON)
        assert area is not None and area.basis == "by road"
        assert area.first_due.name == "이태원119안전센터" and area.jurisdiction == "용산소방서"
        assert area.first_due.eta_s is not None and area.first_due.eta_s < 180
        assert area.ambulances == area.stations >= 4  # every ambulance at home and free
        assert len(area.neighbours) == 4
        etas = [n.eta_s for n in area.neighbours]
        assert etas == sorted(etas) and etas[0] > area.first_due.eta_s
        assert "용산소방서" not in {n.name for n in area.neighbours}
    with sessions.begin() as session:  # the first-due ambulance out: one fewer free
        unit = (
            session.query(UnitRow)
            .filter_by(station_id=area.first_due.station_id)
            .filter_by(kind="ambulance")
            .one()
        )
        unit.status = "dispatched"
    with sessions() as session:
        again = areas(session, *ITAEWON)
        assert again is not None and again.ambulances == area.ambulances - 1
        # without a road network: straight lines, and the reason says so
        crow = StationAreas(None, load_jurisdictions(units_csv))(session, *ITAEWON)
        assert crow is not None and crow.basis == "by straight line"
        assert crow.jurisdiction == "용산소방서" and "by straight line" in crow.words()
