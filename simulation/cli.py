"""``goldentime simulate``: replay a day of 119 calls and compare dispatch policies."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from goldentime.settings import load_settings
from simulation.errors import SimulationError
from simulation.policies import POLICIES, parse_policies
from simulation.run import SimulationReport
from simulation.run import simulate as run_simulation
from simulation.world import load_world


def _progress(line: str) -> None:
    click.echo(line, err=True)


def _table(report: SimulationReport) -> None:
    click.echo(f"{len(report.calls)} incidents, {report.hours:g} h, seed {report.seed}")
    click.echo(
        f"{'policy':<12} {'travel<=5m':>10} {'scene<=7m':>10} {'mean':>7} {'p90':>7} "
        f"{'amb.cov':>8} {'eng.cov':>8} {'moveups':>8}"
    )
    for name, r in report.results.items():
        cov = r["coverage"]
        click.echo(
            f"{name:<12} {r['travel_within_5min_pct']:>9.1f}% "
            f"{r['on_scene_within_7min_pct']:>9.1f}% "
            f"{r['mean_response_s'] or 0:>6.0f}s {r['p90_response_s'] or 0:>6.0f}s "
            f"{cov.get('ambulance', {}).get('mean_pct', 0):>7.1f}% "
            f"{cov.get('engine', {}).get('mean_pct', 0):>7.1f}% {r['moveups']:>8}"
        )
        if "system" in r:
            click.echo(f"{'':<12} system: {json.dumps(r['system'], ensure_ascii=False)}")


@click.command()
@click.option(
    "--hours",
    type=click.FloatRange(min=0.01, max=168),
    default=24.0,
    show_default=True,
    help="Scenario hours to replay, from midnight.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=1, max=100_000),
    default=600.0,
    show_default=True,
    help="Scenario seconds per real second (--through-system).",
)
@click.option(
    "--calls-per-day",
    type=click.FloatRange(min=0.1, max=1_000_000),
    default=None,
    help="119 calls a day in the simulated area (default: from the statistics).",
)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    help=f"{'|'.join(POLICIES)}; repeatable or comma list (default: all).",
)
@click.option("--seed", type=int, default=119, show_default=True, help="Seed of the calls.")
@click.option("--json", "as_json", is_flag=True, help="Print {policy: figures} as JSON.")
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a PNG chart here (e.g. docs/img/simulation.png).",
)
@click.option(
    "--through-system",
    is_flag=True,
    help="Replay through the real system (broker, worker, database, HTTP API).",
)
def simulate(
    hours: float,
    speed: float,
    calls_per_day: float | None,
    policies: tuple[str, ...],
    seed: int,
    as_json: bool,
    chart: Path | None,
    through_system: bool,
) -> None:
    """Replay a day of 119 calls in the central area; compare nearest, eta and eta+moveup."""
    names = parse_policies(policies)
    started = time.perf_counter()
    _progress("loading road graph, fleet and statistics ...")
    world = load_world(load_settings())
    if through_system:
        from simulation.system import simulate_through_system

        report = simulate_through_system(
            world,
            hours=hours,
            seed=seed,
            speed=speed,
            policies=names,
            calls_per_day=calls_per_day,
            progress=_progress,
        )
    else:
        report = run_simulation(
            world,
            hours=hours,
            seed=seed,
            policies=names,
            calls_per_day=calls_per_day,
            progress=_progress,
        )
    wall = time.perf_counter() - started
    _progress(f"done in {wall:.1f} s wall ({hours * 3600 / wall:,.0f}x real time)")
    if chart is not None:
        from simulation.chart import save_chart

        _progress(f"chart: {save_chart(report, chart)}")
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _table(report)


__all__ = ["SimulationError", "simulate"]
