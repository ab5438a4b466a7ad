"""The registry: real Seoul data loaded, and clear errors for bad files and thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldentime.contracts.sensors import AlarmLevel, SensorKind
from sensors.errors import RegistryError, UnknownSensorError
from sensors.model import LevelThreshold, StructureKind
from sensors.registry import (
    SensorRegistry,
    han_bridges,
    load_graph_bridges,
    load_seoul_bridges,
)


def test_real_data_loads_every_structure(registry: SensorRegistry) -> None:
    ids = [s.structure_id for s in registry]
    assert sum(i.startswith("br18-") for i in ids) == 102
    graph_bridges = [s for s in registry if s.structure_id.startswith("gb-")]
    assert sum(len(s.edges) for s in graph_bridges) == 25
    assert len(graph_bridges) == 19  # reverse twins merged
    grades = {s.safety_grade for s in registry if s.structure_id.startswith("br18-")}
    assert grades == {"A", "B", "C"}
    assert registry.structure("br18-001").name == "신원교"


def test_grade_c_bridges_carry_a_displacement_gauge(registry: SensorRegistry) -> None:
    grade_c = [s for s in registry if s.safety_grade == "C"]
    assert len(grade_c) == 7
    for s in grade_c:
        disp = next(x for x in s.sensors if x.kind is SensorKind.DISPLACEMENT)
        assert s.length_m is not None
        assert disp.levels[-1].raise_at == pytest.approx(s.length_m * 1000 / 800)


def test_han_bridges_have_the_public_thresholds(registry: SensorRegistry) -> None:
    jamsu = registry.sensor("han-jamsu.wl1")
    assert [(t.level, t.raise_at) for t in jamsu.levels] == [
        (AlarmLevel.WATCH, 5.0), (AlarmLevel.WARNING, 5.5), (AlarmLevel.CRITICAL, 6.2)
    ]  # fmt: skip
    hangang = registry.sensor("han-hangang.wl1")
    assert [(t.level, t.raise_at) for t in hangang.levels] == [
        (AlarmLevel.WATCH, 8.5), (AlarmLevel.WARNING, 10.5)
    ]  # fmt: skip
    assert all(t.clear_at < t.raise_at for t in jamsu.levels + hangang.levels)
    jamsu = registry.structure("han-jamsu")
    assert jamsu.edges == ()  # outside the central road graph
    assert len(jamsu.network_links) == 4 and "반포대로" in jamsu.road_names  # the Seoul network


def test_tunnels_come_from_the_road_graph(registry: SensorRegistry) -> None:
    tunnels = [s for s in registry if s.kind is StructureKind.TUNNEL]
    assert {s.structure_id for s in tunnels} == {"tn-sajik", "tn-yulgok"}
    for tunnel in tunnels:
        assert tunnel.edges and tunnel.geometry_wkt.startswith("MULTILINESTRING")
        assert {x.kind for x in tunnel.sensors} == {
            SensorKind.CO, SensorKind.SMOKE, SensorKind.TEMPERATURE
        }  # fmt: skip


def test_unknown_ids(registry: SensorRegistry) -> None:
    with pytest.raises(UnknownSensorError, match=r"han-jamsu\.wl9"):
        registry.sensor("han-jamsu.wl9")
    with pytest.raises(UnknownSensorError, match="nowhere"):
        registry.structure("nowhere")


def test_missing_file_and_column(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="no such file"):
        load_seoul_bridges(tmp_path / "none.csv")
    bad = tmp_path / "edges.csv"
    bad.write_text("u,v,key,name\n1,2,0,x\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"edges.csv: missing column\(s\) length_m"):
        load_graph_bridges(bad)


def test_bad_number_names_the_row_and_column(tmp_path: Path) -> None:
    header = (
        "교량명,시군구명,교량시작점위도,교량시작점경도,교량종료점위도,교량종료점경도,"
        "최종안전점검결과,교량연장\n"
    )
    path = tmp_path / "bridges.csv"
    path.write_text(
        header + "가교,서초구,37.5,127.0,37.5,127.0,A,10\n나교,서초구,north,127,37.5,127,B,5\n"
    )
    with pytest.raises(RegistryError, match=r"row 2: 교량시작점위도='north' is not a number"):
        load_seoul_bridges(path)


def test_duplicate_ids_and_bad_thresholds_are_refused() -> None:
    bridges = han_bridges()
    with pytest.raises(RegistryError, match="duplicate structure id 'han-jamsu'"):
        SensorRegistry([*bridges, bridges[0]])
    with pytest.raises(RegistryError, match="hysteresis"):
        LevelThreshold(AlarmLevel.WARNING, raise_at=5.5, clear_at=5.5)
