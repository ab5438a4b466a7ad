"""``goldentime simulate``: replay a day of 119 calls and compare dispatch policies."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import click

from goldentime.settings import load_settings
from routing.loading import NETWORK_NAMES
from simulation.errors import SimulationError
from simulation.policies import POLICIES, parse_policies
from simulation.run import SimulationReport
from simulation.run import simulate as run_simulation
from simulation.scenario import ScenarioError, load_scenario
from simulation.scenario_run import ScenarioReport, run_scenario
from simulation.world import load_world


def _progress(line: str) -> None:
    click.echo(line, err=True)


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{value:5.1f}%"


def _table(report: SimulationReport) -> None:
    click.echo(
        f"{len(report.calls)} incidents, {report.hours:g} h, seed {report.seed}, "
        f"network {report.network}"
    )
    click.echo(
        f"{'policy':<12} {'travel<=5m':>10} {'scene<=7m':>10} {'fires<=7m':>10} {'mean':>7} "
        f"{'p90':>7} {'amb.cov':>8} {'eng.cov':>8} {'moveups':>8}"
    )
    for name, r in report.results.items():
        cov = r["coverage"]
        click.echo(
            f"{name:<12} {r['travel_within_5min_pct']:>9.1f}% "
            f"{r['on_scene_within_7min_pct']:>9.1f}% "
            f"{_pct(r['fires_on_scene_within_7min_pct']):>10} "
            f"{r['mean_response_s'] or 0:>6.0f}s {r['p90_response_s'] or 0:>6.0f}s "
            f"{cov.get('ambulance', {}).get('mean_pct', 0):>7.1f}% "
            f"{cov.get('engine', {}).get('mean_pct', 0):>7.1f}% {r['moveups']:>8}"
        )
        if "system" in r:
            click.echo(f"{'':<12} system: {json.dumps(r['system'], ensure_ascii=False)}")
    published = ", ".join(f"{p.within_7min_pct:.1f}% ({p.period})" for p in report.published)
    if published:
        click.echo(f"Seoul published, fires on scene within 7 min of the call: {published}")
    _gu_table(report)


def _gu_table(report: SimulationReport) -> None:
    names = list(report.results)
    gus = sorted({g for r in report.results.values() for g in r["by_gu"]})
    if len(gus) < 2:
        return
    click.echo("")
    click.echo("on scene within 7 min of the call, by gu:")
    click.echo(f"{'gu':<10} {'calls':>6} " + " ".join(f"{n:>11}" for n in names))
    for gu in gus:
        rows = [report.results[n]["by_gu"].get(gu) for n in names]
        first = next(r for r in rows if r is not None)
        mark = "" if first["on_network"] else " *"
        click.echo(
            f"{gu + mark:<10} {first['incidents']:>6} "
            + " ".join(f"{_pct(r['on_scene_within_7min_pct'] if r else None):>11}" for r in rows)
        )
    if any(not r["on_network"] for res in report.results.values() for r in res["by_gu"].values()):
        click.echo(
            "* not in the road network: reached by the approach-leg estimate "
            "(routing.approach_legs)"
        )
    for name in names:
        by_gu = report.results[name]["by_gu"]
        worst = min(by_gu, key=lambda g: (by_gu[g]["on_scene_within_7min_pct"], g))
        click.echo(
            f"worst gu under {name}: {worst} {by_gu[worst]['on_scene_within_7min_pct']:.1f}% "
            f"({by_gu[worst]['incidents']} calls)"
        )


def _scenario_table(report: ScenarioReport) -> None:
    click.echo("")
    click.echo(f"scenario {report.scenario.name}: {report.scenario.title}")
    if report.windows:
        first = next(iter(report.windows.values()))
        click.echo(
            f"surge window {first['from_s'] / 3600:g}-{first['to_s'] / 3600:g} h "
            f"({first['incidents']} incidents):"
        )
        for name, w in report.windows.items():
            click.echo(
                f"  {name:<12} travel<=5m {w['travel_within_5min_pct']:5.1f}%  scene<=7m "
                f"{w['on_scene_within_7min_pct']:5.1f}%  delayed {w['dispatch_delayed']}  "
                f"mean wait {w['mean_queued_s'] or 0:.0f}s  unserved {w['unserved']}"
            )
    if report.surge is not None:
        click.echo("crowd: " + json.dumps(report.surge, ensure_ascii=False))


@click.command()
@click.option(
    "--hours",
    type=click.FloatRange(min=0.01, max=168),
    default=None,
    help="Scenario hours to replay, from midnight (default 24; a --scenario's own).",
)
@click.option(
    "--scenario",
    "scenario_name",
    default=None,
    metavar="NAME|PATH",
    help="A surge or mass-casualty scenario: crowd-crush, surge-5x, or a scenario .toml file "
    "(simulation/scenarios/).",
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
@click.option(
    "--network",
    type=click.Choice(NETWORK_NAMES),
    default=None,
    help="Named road network (default: the configured one, settings `routing.network`: seoul).",
)
@click.option(
    "--graph",
    "graph_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Road network file or directory to simulate on instead of a named network.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=16),
    default=min(2, os.cpu_count() or 1),
    show_default=True,
    help="Processes running the policies side by side (same figures as 1).",
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
    hours: float | None,
    scenario_name: str | None,
    speed: float,
    calls_per_day: float | None,
    policies: tuple[str, ...],
    network: str | None,
    graph_path: Path | None,
    workers: int,
    seed: int,
    as_json: bool,
    chart: Path | None,
    through_system: bool,
) -> None:
    """Replay a day of 119 calls (Seoul-wide by default); compare nearest, eta and eta+moveup."""
    names = parse_policies(policies)
    scenario = None
    if scenario_name is not None:
        if through_system or calls_per_day is not None:
            raise click.UsageError(
                "--scenario sets its own traffic: not with --through-system or --calls-per-day"
            )
        try:
            scenario = load_scenario(scenario_name)
        except ScenarioError as err:
            raise click.BadParameter(str(err), param_hint="--scenario") from err
    if hours is None:
        hours = scenario.hours if scenario is not None else 24.0
    started = time.perf_counter()
    overrides: dict[str, Any] = {}
    if network is not None:
        overrides.setdefault("routing", {}).update(network=network, graph_path=None)
    if graph_path is not None:
        overrides.setdefault("routing", {}).update(graph_path=graph_path)
    settings = load_settings(**overrides)
    _progress("loading road network, fleet and statistics ...")
    world = load_world(settings)
    _progress(
        f"network {world.network_name}: {world.network.compiled.n_nodes:,} nodes, "
        f"{len(world.fleet)} vehicles of {len(world.stations)} stations, "
        f"{len(world.demand.gus)} gu ({time.perf_counter() - started:.1f} s)"
    )
    scenario_report: ScenarioReport | None = None
    if scenario is not None:
        _progress(f"scenario {scenario.name}: {scenario.title}")
        scenario_report = run_scenario(
            world,
            scenario,
            hours=hours,
            seed=seed,
            policies=names,
            progress=_progress,
            workers=workers,
        )
        report = scenario_report.report
    elif through_system:
        from ops.simulate_system import simulate_through_system

        report = simulate_through_system(
            world,
            hours=hours,
            seed=seed,
            speed=speed,
            policies=names,
            calls_per_day=calls_per_day,
            progress=_progress,
            settings_overrides=overrides,
        )
    else:
        report = run_simulation(
            world,
            hours=hours,
            seed=seed,
            policies=names,
            calls_per_day=calls_per_day,
            progress=_progress,
            workers=workers,
        )
    wall = time.perf_counter() - started
    _progress(f"done in {wall:.1f} s wall ({hours * 3600 / wall:,.0f}x real time)")
    if chart is not None:
        from simulation.chart import save_chart

        _progress(f"chart: {save_chart(report, chart)}")
    if as_json:
        payload = report.to_json() if scenario_report is None else scenario_report.to_json()
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        _table(report)
        if scenario_report is not None:
            _scenario_table(scenario_report)


__all__ = ["SimulationError", "simulate"]
