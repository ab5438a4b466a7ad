"""Places in the console: GET /api/places, and the place and caller location on incidents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from gt_published import sent

from console.live import ChangeFeed
from console.places_api import IncidentPlaces
from console.roles import Role
from dispatch.catalog import load_catalog
from dispatch.intake import ingest
from dispatch.signals import call_signal
from goldentime.contracts import Call, IncidentType, LocationSource
from goldentime.db import create_schema, make_engine, session_factory, writer
from goldentime.settings import PROJECT_ROOT

from .conftest import NOW, ROLE_USERS, SecuredConsole, make_console

CITY_HALL = (37.5663, 126.9779)
SEOUL = PROJECT_ROOT / "data" / "seoul"


@pytest.fixture(scope="module")
def shared_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredConsole]:
    """One console for the tests that only read or are refused (building one takes seconds)."""
    yield from make_console(tmp_path_factory.mktemp("places"), mode="demo")


@pytest.fixture
def demo_console(tmp_path: Path) -> Iterator[SecuredConsole]:
    yield from make_console(tmp_path, mode="demo")


def a_call(call_id: str, *, uncertainty: float | None, source: LocationSource | None) -> Call:
    return Call(
        id=call_id,
        received_at=NOW,
        lat=CITY_HALL[0],
        lon=CITY_HALL[1],
        type=IncidentType.CARDIAC_ARREST,
        location_uncertainty_m=uncertainty,
        location_source=source,
    )


def test_search_answers_the_exact_shape_best_first(shared_console: SecuredConsole) -> None:
    r = shared_console.client.get("/api/places", params={"q": "강낭역", "limit": 3})
    assert r.status_code == 200
    found = r.json()
    assert 1 <= len(found) <= 3
    assert all(set(p) == {"name", "kind", "lat", "lon", "gu"} for p in found)
    assert found[0] == {
        "name": "강남역", "kind": "station", "lat": found[0]["lat"], "lon": found[0]["lon"],
        "gu": "강남구",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "q"), ({"q": ""}, "q"), ({"q": "x" * 101}, "q"), ({"q": "a", "limit": 0}, "limit")],
)
def test_bad_query_is_422_naming_the_field(
    shared_console: SecuredConsole, params: dict[str, object], field: str
) -> None:
    r = shared_console.client.get("/api/places", params=params)
    assert r.status_code == 422
    assert field in r.text


def test_blank_query_is_422(shared_console: SecuredConsole) -> None:
    r = shared_console.client.get("/api/places", params={"q": "   "})
    assert r.status_code == 422 and "q:" in r.text


def test_call_takers_and_crews_may_search_anonymous_may_not(secured: SecuredConsole) -> None:
    assert secured.client.get("/api/places", params={"q": "서울시청"}).status_code == 401
    for role in Role:
        browser = secured.sign_in(ROLE_USERS[role])
        assert browser.get("/api/places", params={"q": "서울시청"}).status_code == 200, role


def test_posted_call_carries_its_location_uncertainty(shared_console: SecuredConsole) -> None:
    body = {"lat": CITY_HALL[0], "lon": CITY_HALL[1], "type": "ems"}
    extra = {"location_uncertainty_m": 1200, "location_source": "network"}
    assert shared_console.client.post("/api/calls", json=body | extra).status_code == 202
    (_topic, call, _key) = sent(shared_console.publisher)[-1]
    assert isinstance(call, Call)
    assert (call.location_uncertainty_m, call.location_source) == (1200.0, LocationSource.NETWORK)


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"location_uncertainty_m": 0}, "location_uncertainty_m"),
     ({"location_uncertainty_m": 60_000}, "location_uncertainty_m"),
     ({"location_source": "psychic"}, "location_source")],
)  # fmt: skip
def test_bad_location_is_422(
    shared_console: SecuredConsole, extra: dict[str, object], field: str
) -> None:
    body = {"lat": CITY_HALL[0], "lon": CITY_HALL[1], "type": "ems"} | extra
    r = shared_console.client.post("/api/calls", json=body)
    assert r.status_code == 422
    assert field in {d["loc"][-1] for d in r.json()["detail"]}


def test_incident_json_has_place_and_caller_location(
    demo_console: SecuredConsole, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")  # the console's database
    sessions = session_factory(writer(engine))
    opened = ingest(
        sessions,
        [call_signal(a_call("aml-1", uncertainty=25.0, source=LocationSource.AML))],
        now=NOW,
        catalog=load_catalog(),
    )
    incident_id = opened.incidents[0].id
    client = demo_console.client
    listed = {i["id"]: i for i in client.get("/api/incidents").json()}[incident_id]
    detail = client.get(f"/api/incidents/{incident_id}").json()
    for body in (listed, detail):
        assert body["place"]["gu"] == "중구"
        assert body["place"]["dong"] == "태평로1가"
        assert body["place"]["intersection"] == "서울시청"
        assert body["place"]["road"] == "세종대로"
        assert (body["location_uncertainty_m"], body["location_source"]) == (25.0, "aml")
    assert detail["calls"][0]["location_uncertainty_m"] == 25.0
    assert detail["calls"][0]["location_source"] == "aml"


def test_incident_without_caller_location_says_null(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    sessions = session_factory(writer(engine))
    ingest(
        sessions, [call_signal(a_call("c-1", uncertainty=None, source=None))], now=NOW,
        catalog=load_catalog(),
    )  # fmt: skip
    bodies = [{"id": "INC-X", "lat": CITY_HALL[0], "lon": CITY_HALL[1]}]
    with session_factory(engine)() as session:
        IncidentPlaces(SEOUL, warm=False).enrich(session, bodies)
    assert bodies[0]["location_uncertainty_m"] is None
    assert bodies[0]["location_source"] is None
    assert bodies[0]["place"]["intersection"] == "서울시청"


def test_live_feed_incidents_carry_the_place(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    sessions = session_factory(writer(engine))
    feed = ChangeFeed(session_factory(engine), enrich=IncidentPlaces(SEOUL, warm=False).enrich)
    assert feed.poll_once() == []
    call = a_call("net-1", uncertainty=1500.0, source=LocationSource.NETWORK)
    ingest(sessions, [call_signal(call)], now=NOW + timedelta(seconds=1), catalog=load_catalog())
    (change,) = feed.poll_once()
    assert change.data["place"]["gu"] == "중구"
    assert change.data["location_uncertainty_m"] == 1500.0
    assert change.data["location_source"] == "network"
