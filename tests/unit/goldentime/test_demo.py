from __future__ import annotations

from pathlib import Path

import pytest

from goldentime.demo import build_scenario, graph_bbox, load_fires, scenario_for
from goldentime.errors import DataError
from goldentime.settings import load_settings

DATA = load_settings().seoul_data_dir


def test_scenario_uses_real_fires_inside_the_graph() -> None:
    bbox = graph_bbox(DATA / "roads" / "seoul_central_drive.graphml")
    assert bbox == pytest.approx((37.5442, 126.9499, 37.5891, 127.0066), abs=1e-3)
    fires = load_fires(DATA / "incidents" / "late_fires_2021.csv", bbox)
    assert 50 <= len(fires) <= 70
    scenario = build_scenario(fires, calls=40, run_id="t")
    assert len(scenario) == 40
    offsets = [c.offset_s for c in scenario]
    assert offsets == sorted(offsets)
    ids = [c.body["id"] for c in scenario]
    assert len(set(ids)) == len(ids)
    assert any(i.endswith("-b") for i in ids), "some fires get a second caller"
    for item in scenario:
        assert bbox[0] - 0.01 <= item.body["lat"] <= bbox[2] + 0.01


def test_scenario_is_deterministic() -> None:
    assert scenario_for(DATA, calls=10, run_id="x") == scenario_for(DATA, calls=10, run_id="x")


def test_broken_graph_file_is_a_data_error(tmp_path: Path) -> None:
    bad = tmp_path / "g.graphml"
    bad.write_text("<graphml><node", encoding="utf-8")
    with pytest.raises(DataError, match="not a GraphML file"):
        graph_bbox(bad)
    with pytest.raises(DataError, match="not found"):
        graph_bbox(tmp_path / "missing.graphml")
