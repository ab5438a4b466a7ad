"""CLI commands (click CliRunner on ops.cli:cli) and graph/units loading errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ops.cli import cli, main
from routing import GraphLoadError, RoutingError, SpeedTable, load_network
from routing.fire_units import read_units
from routing.graphml import read_graphml

ROUTE = ["route", "--from", "37.5547,126.9707", "--to", "37.5759,126.9768"]
GRAPHML = """<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
<key id="x" for="node" attr.name="x" attr.type="string"/>
<key id="y" for="node" attr.name="y" attr.type="string"/>
<key id="len" for="edge" attr.name="length" attr.type="string"/>
<key id="hw" for="edge" attr.name="highway" attr.type="string"/>
<key id="nm" for="edge" attr.name="name" attr.type="string"/>
<key id="ln" for="edge" attr.name="lanes" attr.type="string"/>
<key id="ow" for="edge" attr.name="oneway" attr.type="string"/>
<key id="geo" for="edge" attr.name="geometry" attr.type="string"/>
<graph edgedefault="directed">
<node id="1"><data key="x">126.98</data><data key="y">37.56</data></node>
<node id="2"><data key="x">126.99</data><data key="y">37.56</data></node>
<edge source="1" target="2" id="0"><data key="len">890.5</data>
  <data key="hw">['secondary_link', 'secondary']</data><data key="nm">['A로', 'B길']</data>
  <data key="ln">['2', '4']</data><data key="ow">False</data>
  <data key="geo">LINESTRING (126.98 37.56, 126.985 37.5605, 126.99 37.56)</data></edge>
<edge source="2" target="1" id="0"><data key="len">890.5</data>
  <data key="hw">secondary</data>{extra}</edge>
</graph></graphml>
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "g.graphml"
    path.write_text(text, encoding="utf-8")
    return path


def test_graphml_attributes_are_typed(tmp_path: Path) -> None:
    graph = read_graphml(write(tmp_path, GRAPHML.format(extra="")))
    data = graph.edges[1, 2, 0]
    assert data["highway"] == "secondary" and data["lanes"] == 4
    assert data["name"] == "A로" and data["names"] == ["A로", "B길"]
    assert data["oneway"] is False and data["length"] == 890.5
    assert data["geometry"].geom_type == "LineString"
    net = load_network(write(tmp_path, GRAPHML.format(extra="")))
    assert net.load_info.nodes_dropped == 0
    assert net.route((37.56, 126.981), (37.56, 126.989)).streets == ["A로"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not xml at all", "not valid GraphML"),
        (
            GRAPHML.replace(
                '<data key="len">890.5</data>\n  <data key="hw">secondary',
                '<data key="hw">secondary',
            ),
            "no 'length'",
        ),
        (GRAPHML.replace('<data key="x">126.99</data>', ""), "no 'x'"),
        (GRAPHML.replace('<data key="hw">secondary</data>', ""), "no 'highway'"),
    ],
)
def test_bad_graphs_raise_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(GraphLoadError, match=message):
        load_network(write(tmp_path, text.replace("{extra}", "")))


def test_missing_graph_file(tmp_path: Path) -> None:
    with pytest.raises(GraphLoadError, match="not found"):
        load_network(tmp_path / "nope.graphml")


def test_speed_table_is_configurable() -> None:
    table = SpeedTable(base_kmh={"residential": 30.0}, emergency_factor=1.2)
    assert table.kmh("residential", "engine") == pytest.approx(36.0)
    assert table.kmh("residential_link", "ladder") == pytest.approx(30 * 0.8 * 0.9 * 1.2)
    assert table.kmh("motorway", "engine") == pytest.approx(20.0 * 1.2)  # default_kmh
    with pytest.raises(RoutingError, match="speed"):
        SpeedTable(base_kmh={"primary": -1.0})


def test_units_file_errors_name_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text("unit_id,lat,lon,vehicle\na,37.5,127.0,engine\nb,x,127,engine\n")
    with pytest.raises(RoutingError, match="row 3: bad lat/lon"):
        read_units(path)
    path.write_text("unit_id,lat,lon,vehicle\na,37.5,127.0,boat\n")
    with pytest.raises(RoutingError, match="row 2: field vehicle='boat'"):
        read_units(path)


def test_route_cli_json() -> None:
    result = CliRunner().invoke(
        cli, ["route", "--from", "37.5547,126.9707", "--to", "37.5759,126.9768", "--json",
              "--network", "central"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert 2000 <= data["distance_m"] <= 3500 and 0 < data["eta_s"] < 600
    assert data["geometry"]["type"] == "LineString" and "세종대로" in data["streets"]


def test_route_cli_seoul_network_contract() -> None:
    """The machine-readable contract: City Hall -> Gangnam station on the Seoul network."""
    argv = ["route", "--network", "seoul", "--from", "37.5663,126.9779", "--to",
            "37.4979,127.0276", "--vehicle", "ambulance", "--metric", "distance",
            "--json"]  # fmt: skip
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert 9000 <= data["distance_m"] <= 10500  # 9.39 km node to node (team notes)
    assert data["duration_s"] == data["eta_s"] and 600 < data["duration_s"] < 1800
    assert data["road_names"][0] == "세종대로" and "한남대로" in data["road_names"]
    assert data["road_names"] == data["streets"] and data["vehicle"] == "ambulance"


def test_route_cli_alternative_and_text() -> None:
    result = CliRunner().invoke(cli, ["route", "--from", "37.5547,126.9707", "--to",
                                      "37.5759,126.9768", "--alternative"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "min" in result.output and "alternative" in result.output


def test_eta_cli_json_with_units_file(tmp_path: Path) -> None:
    units = tmp_path / "units.csv"
    units.write_text(
        "unit_id,lat,lon,vehicle\nA,37.5728,126.9789,engine\nB,37.5606,126.9557,ladder\n"
    )
    result = CliRunner().invoke(cli, ["eta", "--incident", "37.5759,126.9768", "--units",
                                      str(units), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["units"]
    assert [r["unit_id"] for r in rows] == ["A", "B"]
    assert rows[0]["route"]["geometry"]["type"] == "LineString"
    assert rows[0]["in_golden_time"] is True


def test_coverage_cli_json() -> None:
    result = CliRunner().invoke(cli, ["coverage", "--minutes", "3", "--move-up", "1", "--busy",
                                      "1103102", "--holes", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    # The default (Seoul) network serves all 177 units, 강동구's by approach legs.
    assert 0 < data["covered_share"] < 1 and data["units_available"] == 176
    assert data["holes"]["type"] == "FeatureCollection"
    assert isinstance(data["move_up"], list)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["route", "--from", "37.30,126.97", "--to", "37.5759,126.9768"], "from the nearest road"),
        ([*ROUTE, "--network", "seoul", "--graph", "x.graphml"], "not both"),
        ([*ROUTE, "--graph", "/nonexistent.graphml"], "not found"),
        (["coverage", "--minutes", "0"], "minutes must be"),
    ],
)
def test_cli_errors_are_one_line_and_nonzero(argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("goldentime: error:") and message in err
    assert "\n" not in err and "Traceback" not in err


def test_bad_latlon_option_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["route", "--from", "north", "--to", "37.5759,126.9768"])
    assert exit_info.value.code == 2
    assert "expected LAT,LON" in capsys.readouterr().err
