"""Benchmark of the places package: gazetteer build, search and reverse geocoding.

The gazetteer is built from the shipped Seoul data in this process (cold: every file read,
indexed); then a fixed list of call-taker queries (exact names, prefixes, spacing and
역/입구 variants, typos, addresses, nonsense) is searched, each several times, and seeded
points across Seoul are reverse-geocoded one by one and as one board of 500.

``goldentime bench places [--json] [--rounds N]`` prints ``build_ms``, ``places``,
``search_ms`` (median, p95), ``reverse_ms`` (median, p95 per point) and ``reverse_board_ms``
(500 points in one call).
"""

from __future__ import annotations

import functools
import json
import statistics
import time
from typing import Any

import click
import numpy as np

from bench._stats import percentile, time_calls
from places.build import build_atlas

SEED = 20261203
QUERIES = (
    "강남역", "강남 역", "강남", "강낭역", "홍대입구", "홍대", "홍대입국역", "서울시청", "시청",
    "서울역", "광화문", "세종대로", "테헤란로", "역삼동", "중구", "강남소방서", "영동안전센터",
    "여의도성모병원", "서울대병원", "성수대교", "사직터널", "개포로 31길 48", "올림픽로 300",
    "강남역 2번 출구 앞", "잠실", "신촌", "을지로입구", "zqxwv",
)  # fmt: skip


def run(*, rounds: int) -> dict[str, Any]:
    from goldentime.settings import load_settings

    data_dir = load_settings().data.seoul_dir
    started, cpu = time.perf_counter(), time.process_time()
    atlas = build_atlas(data_dir)
    build_ms = (time.perf_counter() - started) * 1e3
    build_cpu_ms = (time.process_time() - cpu) * 1e3
    gazetteer, geocoder = atlas.gazetteer, atlas.geocoder
    cpu = time.process_time()
    search = time_calls(
        functools.partial(gazetteer.search, q, limit=10) for _ in range(rounds) for q in QUERIES
    )
    search_cpu_ms = (time.process_time() - cpu) * 1e3 / len(search)
    rng = np.random.default_rng(SEED)
    points = [
        (float(lat), float(lon))
        for lat, lon in zip(
            rng.uniform(37.46, 37.66, 500), rng.uniform(126.84, 127.14, 500), strict=True
        )
    ]
    single = time_calls(functools.partial(geocoder.reverse, *p) for p in points)

    def whole_board() -> None:
        geocoder.reverse_many(points)

    cpu = time.process_time()
    board = time_calls(whole_board for _ in range(rounds))
    board_cpu_ms = (time.process_time() - cpu) * 1e3 / rounds
    return {
        "build_ms": round(build_ms, 1),
        "build_cpu_ms": round(build_cpu_ms, 1),  # wall time on a busy machine can be far more
        "places": len(gazetteer),
        "keys": gazetteer.key_count,
        "queries": len(QUERIES),
        "search_ms": {
            "median": round(statistics.median(search), 3),
            "p95": round(percentile(search, 0.95), 3),
            "cpu_mean": round(search_cpu_ms, 3),
        },
        "reverse_ms": {
            "median": round(statistics.median(single), 3),
            "p95": round(percentile(single, 0.95), 3),
        },
        "reverse_board_ms": {
            "points": len(points),
            "median": round(statistics.median(board), 1),
            "cpu_mean": round(board_cpu_ms, 1),
        },
    }


@click.command("places")
@click.option("--rounds", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable object.")
def command(rounds: int, as_json: bool) -> None:
    """Gazetteer build time, search and reverse-geocoding latency on the Seoul data."""
    result = run(rounds=rounds)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"built {result['places']} places in {result['build_ms']} ms")
    click.echo(
        f"search: median {result['search_ms']['median']} ms, p95 {result['search_ms']['p95']}"
    )
    click.echo(
        f"reverse: median {result['reverse_ms']['median']} ms a point; "
        f"500 at once {result['reverse_board_ms']['median']} ms"
    )
