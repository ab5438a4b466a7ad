from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    found = incident(*a)
    index = CandidateIndex(
        [found], search_radius_m=CATALOG.max_radius_m, window_s=CATALOG.max_window_s
    )
    at = signal(*b, t=30).at
    assert [i.id for i in index.near(*b, at)] == ["INC-A"]
    assert decide(signal(*b, t=30), index.near(*b, at), CATALOG).incident_id == "INC-A"


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


def test_the_index_leaves_out_only_incidents_that_cannot_match_in_time() -> None:
    """Partitions consumed at different paces: incidents hours ahead or behind the signal are
    not candidates; those within the longest window are; touched ones move with their time."""
    window = CATALOG.max_window_s
    behind = incident(37.57, 126.98, t=-3 * window, id_="INC-BEHIND")
    ahead = incident(37.57, 126.98, t=3 * window, id_="INC-AHEAD")
    close = incident(37.57, 126.98, t=window * 0.9, id_="INC-CLOSE")
    index = CandidateIndex(
        [behind, ahead, close], search_radius_m=CATALOG.max_radius_m, window_s=window
    )
    at = T0
    assert {i.id for i in index.near(37.57, 126.98, at)} == {"INC-CLOSE"}
    index.touch(behind, T0 - timedelta(seconds=60))
    assert {i.id for i in index.near(37.57, 126.98, at)} == {"INC-CLOSE", "INC-BEHIND"}
    with pytest.raises(ValueError, match="window_s"):
        CandidateIndex([], search_radius_m=300, window_s=0)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-900, 900),
            st.floats(-900, 900),
            st.floats(-8000, 8000),
            st.sampled_from(["building_fire", "cardiac_arrest", "hazmat", "structure_alarm"]),
        ),
        max_size=30,
    ),
    st.tuples(st.floats(-900, 900), st.floats(-900, 900), st.floats(-8000, 8000)),
)
def test_deciding_over_the_index_equals_deciding_over_every_incident(
    incidents: list[tuple[float, float, float, str]], probe: tuple[float, float, float]
) -> None:
    base_lat, base_lon = 37.57, 126.98
    open_incidents = [
        incident(
            base_lat + dn / 111_195,
            base_lon + de / 88_000,
            t=t,
            type_=kind,
            id_=f"INC-{i:02d}",
        )
        for i, (dn, de, t, kind) in enumerate(incidents)
    ]
    index = CandidateIndex(
        open_incidents, search_radius_m=CATALOG.max_radius_m, window_s=CATALOG.max_window_s
    )
    lat, lon = base_lat + probe[0] / 111_195, base_lon + probe[1] / 88_000
    for kind in ("building_fire", "hazmat", "structure_alarm"):
        s = signal(lat, lon, t=probe[2], type_=kind)
        assert decide(s, index.near(lat, lon, s.at), CATALOG) == decide(s, open_incidents, CATALOG)
