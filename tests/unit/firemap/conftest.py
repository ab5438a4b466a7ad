from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import networkx as nx
import pytest

from dispatch.map_roads import safety_map as configured_map
from firemap.safety_map import SafetyMap
from goldentime.settings import load_settings

HYDRANT_HEADER = (
    "순번,일련번호,수리번호,공설구분,용수형식,용수구분,수압,사용구분,관할서,안전센터,도로명,"
    "건물본번,건물부번,우편번호,좌표X,좌표Y,경위도X,경위도Y"
)
# Real rows of the Songpa file (EPSG:5181 x/y plus the row's own lon/lat).
HYDRANT_ROWS = [
    "1,110083413,440122,사설,지상식,소화전,,양호,송파소방서,잠실119안전센터,올림픽로,300.0,0.0,,"
    "209279.7409,445982.3528,127.10497529818711,37.51322012606922",
    "2,110065754,140090,사설,지상식,소화전,3.0,양호,송파소방서,현장대응단,오금로,307.0,0.0,,"
    "211193.2641,444880.8784,127.12660485584068,37.50327352937938",
    "3,110066991,200450,공설,지상식,소화전,2.5,고장(사용불),송파소방서,거여119안전센터,오금로,"
    "524.0,0.0,,212996.2247,443716.591,127.14697717496453,37.49275852099651",
]


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str, lines: list[str], *, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
        return path

    return write


@pytest.fixture(scope="session")
def seoul_dir() -> Path:
    return load_settings().data.seoul_dir


@pytest.fixture(scope="session")
def safety_map() -> SafetyMap:
    """The map as the console and `goldentime firemap` load it (road access on the network)."""
    return configured_map(load_settings())


def lat_lon_node(graph: nx.MultiDiGraph, node: int, lat: float, lon: float) -> None:
    graph.add_node(node, x=lon, y=lat)
