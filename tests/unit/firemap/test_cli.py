"""The `goldentime firemap` commands, through the real entry point where exit codes matter."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from ops.commands.firemap import firemap

from .conftest import HYDRANT_HEADER, HYDRANT_ROWS


def test_near_json_has_the_contract_fields() -> None:
    result = CliRunner().invoke(firemap, ["near", "37.4904,127.1574", "--radius", "150", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["gu"] == "송파구" and doc["station"]["centre"] == "거여119안전센터"
    assert doc["hydrants"] and all(h["distance_m"] <= 150 for h in doc["hydrants"])
    assert {"lat", "lon", "distance_m", "state"} <= set(doc["hydrants"][0])
    assert isinstance(doc["devices"], list) and len(doc["restrictions"]) == 5


def test_layers_lists_counts_and_attribution() -> None:
    result = CliRunner().invoke(firemap, ["layers", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["hydrants"]["features"] == 3817 and rows["fire_devices"]["features"] == 2695
    assert all(r["attribution"] for r in rows.values())


def test_import_lenient_lists_rejects_and_exits_1(write_file: Callable[..., Path]) -> None:
    bad = HYDRANT_ROWS[1].replace("444880.8784", "")
    path = write_file("h.csv", [HYDRANT_HEADER, HYDRANT_ROWS[0], bad])
    result = CliRunner().invoke(
        firemap, ["import", str(path), "--layer", "hydrants", "--lenient", "--json"]
    )
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert (report["loaded"], report["rejected"]) == (1, 1)
    assert report["rejects"][0]["line"] == 3 and report["rejects"][0]["field"] == "좌표Y"


def test_strict_import_and_bad_point_are_one_line_errors(write_file: Callable[..., Path]) -> None:
    path = write_file("h.csv", [HYDRANT_HEADER.replace(",좌표X", ",X"), *HYDRANT_ROWS])
    code = "from ops.cli import main; import sys; main(sys.argv[1:])"
    run = subprocess.run(
        [sys.executable, "-c", code, "firemap", "import", str(path), "--layer", "hydrants"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2, run.stderr
    assert "goldentime: error:" in run.stderr and "line 1: missing column(s) 좌표X" in run.stderr
    run = subprocess.run(
        [sys.executable, "-c", code, "firemap", "near", "35.1,129.0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2 and "outside Seoul" in run.stderr
