"""Structure alarms in dispatch: the pure decisions, the closure book on the configured (Seoul)
network, and the handler on SQLite (incident, closure, re-route, draft, clear, idempotency)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.catalog import load_catalog
from dispatch.context import road_network
from dispatch.incident_store import (
    IncidentRow,
    SignalRow,
    StructureClosureRow,
    TimelineRow,
    UnitRow,
)
from dispatch.reroute import sync_routes
from dispatch.sensor_intake import AlarmHandler
from dispatch.structure_alarms import (
    StructureDirectory,
    alarm_signal,
    alert_draft,
    clear_hold_s,
    directory_of,
)
from dispatch.structure_closures import ClosureBook, active_closures
from goldentime.contracts import IncidentType
from goldentime.contracts.routing import ClosureAction
from goldentime.contracts.sensors import AlarmLevel, FaultKind, SensorAlarm, SensorKind
from goldentime.db import create_schema, make_engine, session_factory, writer
from goldentime.settings import load_settings
from routing import RoadNetwork
from sensors.registry import load_registry

T0 = datetime(2025, 7, 15, 6, 0, tzinfo=UTC)
SAJIK = "tn-sajik"


@pytest.fixture(scope="module")
def network() -> RoadNetwork:
    return road_network(load_settings())


@pytest.fixture(scope="module")
def structures(network: RoadNetwork) -> StructureDirectory:
    return directory_of(load_registry(load_settings().data.seoul_dir), network=network)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    create_schema(engine)
    return session_factory(writer(engine))


def alarm(
    structure_id: str,
    sensor: str,
    kind: SensorKind,
    *,
    level: AlarmLevel,
    previous: AlarmLevel,
    structure_level: AlarmLevel | None = None,
    minutes: float = 0,
    threshold: float = 200.0,
    fault: FaultKind | None = None,
) -> SensorAlarm:
    at = T0 + timedelta(minutes=minutes)
    return SensorAlarm(
        id=f"{structure_id}.{sensor}:level:{int(at.timestamp() * 1000)}:{level.value}",
        structure_id=structure_id,
        sensor_id=f"{structure_id}.{sensor}",
        kind=kind,
        rule="fault" if fault else "level",
        level=level,
        previous_level=previous,
        structure_level=structure_level or level,
        fault=fault is not None,
        fault_kind=fault,
        reason=f"{kind.value} test at or over {threshold:g}",
        value=threshold * 1.1,
        unit="ppm",
        threshold=threshold,
        raised_at=at,
    )


def test_signal_type_follows_the_sensor_kind(structures: StructureDirectory) -> None:
    jamsu = structures.get("han-jamsu")
    sajik = structures.get(SAJIK)
    assert jamsu is not None and sajik is not None
    flood = alarm("han-jamsu", "wl1", SensorKind.WATER_LEVEL, level=AlarmLevel.CRITICAL,
                  previous=AlarmLevel.WARNING, threshold=6.2)  # fmt: skip
    smoke = alarm(SAJIK, "co1", SensorKind.CO, level=AlarmLevel.CRITICAL,
                  previous=AlarmLevel.WARNING)  # fmt: skip
    assert alarm_signal(flood, jamsu).type is IncidentType.FLOOD
    assert alarm_signal(smoke, sajik).type is IncidentType.STRUCTURE_ALARM
    assert alarm_signal(smoke, sajik).id == alarm_signal(smoke, sajik).id
    assert "at or over 200" in alarm_signal(smoke, sajik).description


def test_clear_hold_comes_from_the_registry(structures: StructureDirectory) -> None:
    sajik = structures.get(SAJIK)
    assert sajik is not None
    cleared = alarm(SAJIK, "co1", SensorKind.CO, level=AlarmLevel.CLEAR,
                    previous=AlarmLevel.CRITICAL, threshold=150.0)  # fmt: skip
    assert clear_hold_s(cleared, sajik.sensors["tn-sajik.co1"]) == 600.0
    odd = alarm(SAJIK, "co1", SensorKind.CO, level=AlarmLevel.CLEAR,
                previous=AlarmLevel.CRITICAL, threshold=151.0)  # fmt: skip
    assert clear_hold_s(odd, sajik.sensors["tn-sajik.co1"]) is None


def test_alert_draft_is_a_safety_notice_in_korean_and_english(
    structures: StructureDirectory,
) -> None:
    jamsu = structures.get("han-jamsu")
    assert jamsu is not None
    flood = alarm("han-jamsu", "wl1", SensorKind.WATER_LEVEL, level=AlarmLevel.CRITICAL,
                  previous=AlarmLevel.WARNING, threshold=6.2)  # fmt: skip
    draft = alert_draft(flood, jamsu, gu="용산구", at=T0)
    assert draft.headline_ko.startswith("[안전안내]") and "잠수교" in draft.headline_ko
    assert draft.headline_en.startswith("[Safety notice]")
    assert draft.area_desc == "용산구" and draft.template == "flood"
    assert len(draft.headline_ko) <= 157


def test_closure_book_is_idempotent_and_can_lift(
    network: RoadNetwork, structures: StructureDirectory
) -> None:
    sajik = structures.get(SAJIK)
    assert sajik is not None
    book = ClosureBook(network)
    west, east = (37.5700, 126.9560), (37.5760, 126.9770)
    open_route = network.route(east, west)
    assert set(open_route.edges) & set(sajik.edges), "the test route should use the tunnel"
    assert book.close("cl-1", sajik.edges, reason="test")
    assert not book.close("cl-1", sajik.edges, reason="again")
    closed_route = network.route(east, west)
    assert not set(closed_route.edges) & set(sajik.edges)
    with book.lifted("cl-1"):
        assert set(network.route(east, west).edges) & set(sajik.edges)
    assert not set(network.route(east, west).edges) & set(sajik.edges)
    assert book.reopen("cl-1") and not book.reopen("cl-1")
    assert set(network.route(east, west).edges) & set(sajik.edges)


def test_handler_incident_closure_reroute_clear_and_redelivery(
    sessions: sessionmaker[Session], network: RoadNetwork, structures: StructureDirectory
) -> None:
    sajik = structures.get(SAJIK)
    assert sajik is not None
    book = ClosureBook(network)
    handler = AlarmHandler(writers=sessions, book=book, structures=structures,
                           catalog=load_catalog(), locate_gu=lambda _a, _b: "종로구")  # fmt: skip
    with sessions.begin() as session:  # a fire west of the tunnel, an engine east of it
        session.add(IncidentRow(
            id="INC-FIRE", type="building_fire", status="dispatched", lat=37.5700, lon=126.9560,
            description="", created_at=T0, updated_at=T0, revision=1, priority=1, gu="종로구",
            cell="x", last_activity_at=T0,
        ))  # fmt: skip
        session.add(SignalRow(
            id="video-1", kind="video", incident_id="INC-FIRE", at=T0, lat=37.57,
            lon=126.956, type="building_fire", link_reason="test", payload={},
        ))  # fmt: skip
        session.add(UnitRow(
            id="E1", station_id="s", station_name="종로", name="종로 펌프", kind="engine",
            status="en_route", lat=37.5760, lon=126.9770, home_lat=37.5760, home_lon=126.9770,
            incident_id="INC-FIRE", updated_at=T0, revision=1,
        ))  # fmt: skip
    with sessions.begin() as session:
        (unit,) = sync_routes(session, network, ["E1"], now=T0)
        assert set(map(tuple, unit.route["edges"])) & set(sajik.edges)  # type: ignore[index]

    fault = alarm(SAJIK, "co1", SensorKind.CO, level=AlarmLevel.WARNING,
                  previous=AlarmLevel.CLEAR, fault=FaultKind.OUT_OF_RANGE)  # fmt: skip
    fault = fault.model_copy(update={"structure_level": AlarmLevel.CLEAR})
    out = handler.handle([fault], now=T0)
    assert out.incidents == [] and out.closures == [] and out.handled == []

    critical = alarm(SAJIK, "co1", SensorKind.CO, level=AlarmLevel.CRITICAL,
                     previous=AlarmLevel.WARNING, minutes=1)  # fmt: skip
    out = handler.handle([critical], now=T0)
    assert [c.action for c in out.closures] == [ClosureAction.CLOSE]
    assert set(out.closures[0].edges) == set(sajik.edges)
    assert len(out.alerts) == 1 and out.alerts[0].area_desc == "종로구"
    assert [u.id for u in out.units] == ["E1"]
    new_route = out.units[0].route
    assert new_route is not None and not set(new_route.edges) & set(sajik.edges)
    assert any("re-routed around 사직터널 (+" in t.detail for t in out.timeline)
    with sessions() as session:
        opened = session.scalars(select(SignalRow).where(SignalRow.kind == "sensor")).all()
        assert len(opened) == 1
        assert [r.id for r in active_closures(session)] == [out.closures[0].id]

    again = handler.handle([critical], now=T0)
    assert again.duplicates == [critical.id] and again.closures == [] and again.units == []

    warning = alarm(SAJIK, "co1", SensorKind.CO, level=AlarmLevel.WARNING,
                    previous=AlarmLevel.CRITICAL, minutes=20, threshold=150.0)  # fmt: skip
    out = handler.handle([warning], now=T0)
    assert [c.action for c in out.closures] == [ClosureAction.REOPEN]
    assert book.active == set()
    lines = [t.detail for t in out.timeline]
    assert any("cleared after 10 min below 150 ppm" in line for line in lines), lines
    with sessions() as session:
        assert active_closures(session) == []
        row = session.scalars(select(StructureClosureRow)).one()
        assert row.reopened_at == warning.raised_at
        count = len(session.scalars(select(TimelineRow)).all())
    handler.handle([critical, warning], now=T0)
    with sessions() as session:
        assert len(session.scalars(select(TimelineRow)).all()) == count


def test_closures_are_reapplied_from_the_database(
    sessions: sessionmaker[Session], network: RoadNetwork, structures: StructureDirectory
) -> None:
    sajik = structures.get(SAJIK)
    assert sajik is not None
    with sessions.begin() as session:
        session.add(StructureClosureRow(
            id="cl-db", structure_id=SAJIK, structure_name="사직터널",
            edges=[list(e) for e in sajik.edges], reason="test", incident_id=None,
            closed_at=T0, reopened_at=None, reopen_reason="",
        ))  # fmt: skip
    book = ClosureBook(network)
    with sessions() as session:
        assert book.sync(active_closures(session)) == (1, 0)
        assert book.sync(active_closures(session)) == (0, 0)
    assert book.active == {"cl-db"}
    assert book.sync([]) == (0, 1)


def test_the_han_bridges_and_sajik_tunnel_are_links_of_the_seoul_network(
    network: RoadNetwork, structures: StructureDirectory
) -> None:
    from dispatch.structure_alarms import edges_along
    from sensors.registry import load_registry

    graph = network.graph
    assert graph.graph.get("format") == "stdnodelink"
    registry = {s.structure_id: s for s in load_registry(load_settings().data.seoul_dir)}
    for sid, road in (("han-jamsu", "반포대로"), ("han-hangang", "양녕로"), (SAJIK, "사직로")):
        info = structures.get(sid)
        assert info is not None and info.edges == registry[sid].network_links, sid
        for u, v, k in info.edges:
            data = graph.edges[u, v, k]
            assert data["name"] == road, (sid, u, v)
            assert data["bridge" if sid.startswith("han-") else "tunnel"], (sid, u, v)
        # every listed link lies along the structure's geometry
        (along,) = edges_along(network, [(registry[sid].geometry_wkt, info.kind)], buffer_m=40)
        assert set(info.edges) <= set(along), sid
    jamsu = structures.get("han-jamsu")
    assert jamsu is not None
    names = {graph.nodes[n].get("name") for e in jamsu.edges for n in e[:2]}
    assert {"잠수교진출입_분기점1", "잠수교진출입_분기점2"} <= names
    assert all(graph.edges[e]["lanes"] == 1 for e in jamsu.edges)  # the lower deck
    # Geometry and road name alone also take Banpo bridge (the upper deck, same 반포대로, same
    # mid-river node): that is why Jamsu's links are listed.
    (by_geometry,) = edges_along(
        network, [(registry["han-jamsu"].geometry_wkt, "bridge")], road_names=[("반포대로",)]
    )
    assert set(jamsu.edges) < set(by_geometry)


def test_closures_are_matched_by_geometry_for_structures_without_stored_edges() -> None:
    """On the central OSM graph (its own edge ids) the registry's graph bridges carry their
    edges: matching their geometry finds them."""
    from dispatch.structure_alarms import edges_along
    from firemap.access import apply_to
    from routing import load_network
    from sensors.registry import load_registry

    settings = load_settings()
    network = load_network(network="central")
    apply_to(network)
    known = [s for s in load_registry(settings.data.seoul_dir) if s.edges][:8]
    matched = edges_along(network, [(s.geometry_wkt, s.kind.value) for s in known])
    for structure, edges in zip(known, matched, strict=True):
        routable = {e for e in structure.edges if network.graph.has_edge(*e)}  # SCC kept
        assert routable <= set(edges), structure.structure_id
        assert len(edges) <= len(structure.edges) + 2, "the street under it is not the bridge"
    away = "LINESTRING (126.9600 37.5800, 126.9601 37.5800)"
    assert edges_along(network, [(away, "bridge")]) == [()]
