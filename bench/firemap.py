"""Benchmark of `firemap.near`: STRtree index against a linear scan, in the same run.

The map is the shipped Seoul data (8.6k point/line features, central road graph) plus a seeded
synthetic layer of hydrants spread over Seoul, so that the indexed layers hold >= 10k features.
Queries are seeded points inside Seoul, half of them next to real features. Both maps answer
the same queries; their answers are checked equal before timing is reported.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import click
import numpy as np

from dispatch.map_roads import safety_map
from firemap.index import LinearIndex, TreeIndex
from firemap.layers import Feature, LoadedLayer
from firemap.safety_map import IndexFactory, SafetyMap
from firemap.sources import SEOUL_LAT, SEOUL_LON, to_metric
from goldentime.settings import load_settings

SEED = 20240401


def synthetic_hydrants(base: LoadedLayer, count: int, rng: np.random.Generator) -> LoadedLayer:
    lats = rng.uniform(37.45, 37.68, count)
    lons = rng.uniform(126.85, 127.15, count)
    template = base.features[0].props
    extra = tuple(
        Feature("hydrants", f"synthetic-{i}", float(lat), float(lon), dict(template))
        for i, (lat, lon) in enumerate(zip(lats, lons, strict=True))
    )
    return dataclasses.replace(base, features=base.features + extra)


def build(base: SafetyMap, synthetic: int, factory: IndexFactory) -> SafetyMap:
    rng = np.random.default_rng(SEED)
    layers = dict(base.loaded)
    layers["hydrants"] = synthetic_hydrants(layers["hydrants"], synthetic, rng)
    return SafetyMap(
        layers=layers, boundaries=base.boundaries, graph=base.graph, index_factory=factory
    )


def queries(safety_map: SafetyMap, count: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(SEED + 1)
    real = [f for layer in safety_map.loaded.values() for f in layer.features]
    points = []
    for i in range(count):
        if i % 2:
            f = real[int(rng.integers(len(real)))]
            points.append((f.lat + rng.normal(0, 0.0005), f.lon + rng.normal(0, 0.0005)))
        else:
            points.append((rng.uniform(37.46, 37.68), rng.uniform(126.85, 127.15)))
    return [
        (min(max(a, SEOUL_LAT[0]), SEOUL_LAT[1]), min(max(b, SEOUL_LON[0]), SEOUL_LON[1]))
        for a, b in points
    ]


def timed(fn: Callable[[float, float], Any], points: list[tuple[float, float]]) -> list[float]:
    out = []
    for lat, lon in points:
        start = time.perf_counter()
        fn(lat, lon)
        out.append((time.perf_counter() - start) * 1000)
    return out


def figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 4),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 4),
    }


def run(*, synthetic: int, n_queries: int, radius_m: float) -> dict[str, Any]:
    start = time.perf_counter()
    base = safety_map(load_settings())  # with road access on the configured network
    load_s = time.perf_counter() - start
    tree_map = build(base, synthetic, TreeIndex)
    linear_map = build(base, synthetic, LinearIndex)
    points = queries(tree_map, n_queries)
    for lat, lon in points[:50]:
        if tree_map.near(lat, lon, radius_m=radius_m) != linear_map.near(
            lat, lon, radius_m=radius_m
        ):
            raise click.ClickException(f"index and linear scan disagree at {lat},{lon}")
    tree_near = figures(timed(lambda a, b: tree_map.near(a, b, radius_m=radius_m), points))
    linear_near = figures(timed(lambda a, b: linear_map.near(a, b, radius_m=radius_m), points))
    hydrant_features, hydrants_tree = tree_map.layer_index("hydrants")
    _, hydrants_linear = linear_map.layer_index("hydrants")

    def project(f: Callable[[float, float, float], Any]) -> Callable[[float, float], Any]:
        def call(lat: float, lon: float) -> Any:
            xs, ys = to_metric(np.array([lon]), np.array([lat]))
            return f(float(xs[0]), float(ys[0]), radius_m)

        return call

    tree_q = figures(timed(project(hydrants_tree.within), points))
    linear_q = figures(timed(project(hydrants_linear.within), points))
    return {
        "features": tree_map.feature_count(),
        "hydrant_layer_features": len(hydrant_features),
        "queries": len(points),
        "radius_m": radius_m,
        "load_map_s": round(load_s, 3),
        "near_strtree": tree_near,
        "near_linear": linear_near,
        "near_speedup_median": round(linear_near["median_ms"] / tree_near["median_ms"], 1),
        "hydrant_query_strtree": tree_q,
        "hydrant_query_linear": linear_q,
        "hydrant_query_speedup_median": round(linear_q["median_ms"] / tree_q["median_ms"], 1),
        "target_median_ms": 1.0,
        "meets_target": tree_near["median_ms"] <= 1.0,
    }


@click.command(name="firemap")
@click.option("--synthetic", default=10_000, show_default=True, help="Extra seeded hydrants.")
@click.option("--queries", "n_queries", default=2_000, show_default=True)
@click.option("--radius", "radius_m", default=200.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable object.")
def command(synthetic: int, n_queries: int, radius_m: float, as_json: bool) -> None:
    """firemap.near over >= 10k features: STRtree vs linear scan, median and p95."""
    result = run(synthetic=synthetic, n_queries=n_queries, radius_m=radius_m)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(
        f"features: {result['features']} ({result['hydrant_layer_features']} hydrants), "
        f"{result['queries']} queries, radius {radius_m:.0f} m, "
        f"load_map {result['load_map_s']} s"
    )
    for label, key in (
        ("near, STRtree", "near_strtree"),
        ("near, linear scan", "near_linear"),
        ("hydrant query, STRtree", "hydrant_query_strtree"),
        ("hydrant query, linear", "hydrant_query_linear"),
    ):
        f = result[key]
        click.echo(f"{label:24} median {f['median_ms']:.3f} ms  p95 {f['p95_ms']:.3f} ms")
    click.echo(
        f"speedup (median): near x{result['near_speedup_median']}, "
        f"hydrant query x{result['hydrant_query_speedup_median']}; "
        f"target median <= 1 ms: {'met' if result['meets_target'] else 'NOT met'}"
    )
