from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.catalog import load_catalog
from dispatch.cells import CELL_LAT_DEG, CELL_LON_DEG, cell_of, cells_within, distance_m
from dispatch.correlate import CandidateIndex, OpenIncident, Signal, decide
from goldentime.contracts import IncidentStatus, IncidentType

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
CATALOG = load_catalog()


def signal(
    lat: float, lon: float, *, t: float = 0, type_: str = "building_fire", id_: str = "s"
) -> Signal:
    return Signal(
        id=id_,
        kind="call",
        at=T0 + timedelta(seconds=t),
        lat=lat,
        lon=lon,
        type=IncidentType(type_),
    )


def incident(
    lat: float,
    lon: float,
    *,
    type_: str = "building_fire",
    t: float = 0,
    status: IncidentStatus = IncidentStatus.OPEN,
    id_: str = "INC-A",
) -> OpenIncident:
    at = T0 + timedelta(seconds=t)
    return OpenIncident(
        id=id_,
        type=IncidentType(type_),
        status=status,
        lat=lat,
        lon=lon,
        created_at=at,
        last_activity_at=at,
    )


def north(lat: float, metres: float) -> float:
    return lat + metres / 111_195.0


def test_call_within_radius_and_window_attaches_with_reason() -> None:
    d = decide(signal(north(37.57, 120), 126.98, t=300), [incident(37.57, 126.98)], CATALOG)
    assert d.incident_id == "INC-A"
    assert "within 120 m" in d.reason and "5.0 min" in d.reason
    assert "building_fire ~ building_fire" in d.reason


@pytest.mark.parametrize(
    ("metres", "seconds", "attaches"),
    [(290, 60, True), (310, 60, False), (50, 899, True), (50, 901, False)],
)
def test_radius_and_window_edges(metres: float, seconds: float, attaches: bool) -> None:
    d = decide(signal(north(37.57, metres), 126.98, t=seconds), [incident(37.57, 126.98)], CATALOG)
    assert (d.incident_id is not None) is attaches


def test_incompatible_type_opens_a_new_incident() -> None:
    d = decide(signal(37.57, 126.98, type_="cardiac_arrest"), [incident(37.57, 126.98)], CATALOG)
    assert d.incident_id is None
    assert d.reason.startswith("opened the incident")


def test_fire_family_correlates_across_subtypes() -> None:
    d = decide(signal(37.57, 126.98, type_="fire"), [incident(37.57, 126.98)], CATALOG)
    assert d.incident_id == "INC-A"


def test_closed_incident_is_not_a_candidate() -> None:
    closed = incident(37.57, 126.98, status=IncidentStatus.CLOSED)
    assert decide(signal(37.57, 126.98), [closed], CATALOG).incident_id is None


def test_nearest_candidate_wins() -> None:
    far = incident(north(37.57, 200), 126.98, id_="INC-FAR")
    near = incident(north(37.57, 40), 126.98, id_="INC-NEAR", t=10)
    assert decide(signal(37.57, 126.98, t=20), [far, near], CATALOG).incident_id == "INC-NEAR"


def test_larger_radius_of_either_type_applies() -> None:
    hazmat = incident(37.57, 126.98, type_="hazmat")
    d = decide(signal(north(37.57, 450), 126.98, type_="hazmat"), [hazmat], CATALOG)
    assert d.incident_id == "INC-A"


def test_neighbours_across_a_cell_border_are_found() -> None:
    # two points 60 m apart on either side of a cell border
    border_lat = 7514 * CELL_LAT_DEG
    a = (border_lat - 30 / 111_195, 126.98)
    b = (border_lat + 30 / 111_195, 126.98)
    assert cell_of(*a) != cell_of(*b)
    index = CandidateIndex([incident(*a)], search_radius_m=CATALOG.max_radius_m)
    assert [i.id for i in index.near(*b)] == ["INC-A"]
    assert decide(signal(*b, t=30), index.near(*b), CATALOG).incident_id == "INC-A"


def test_cells_within_cover_the_circle() -> None:
    lat, lon = 37.5665, 126.978
    cells = cells_within(lat, lon, 500)
    for bearing_lat, bearing_lon in [(500, 0), (-500, 0), (0, 500), (0, -500)]:
        p = (lat + bearing_lat / 111_195, lon + bearing_lon / (111_195 * 0.7937))
        assert cell_of(*p) in cells
    assert cells == sorted(cells)
    assert CELL_LON_DEG > 0.0


def test_distance_is_haversine() -> None:
    assert distance_m(37.5547, 126.9707, 37.5759, 126.9768) == pytest.approx(2416, rel=0.01)
