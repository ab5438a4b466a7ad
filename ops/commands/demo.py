"""`goldentime demo`: replay the real 2021 late fires (or a surge scenario's crowd) as 119 calls,
with simulated crews; composes dispatch and simulation, so it lives on the upper floor."""

from __future__ import annotations

import time

import click
import httpx

from goldentime.commands.intake import _default_url
from goldentime.errors import DataError
from goldentime.settings import load_settings


@click.command()
@click.option("--url", default=None, help="Console URL (default from settings).")
@click.option("--speed", type=float, default=None, help="Scenario seconds per real second.")
@click.option(
    "--calls",
    type=click.IntRange(0, 100_000),
    default=None,
    help="Calls to replay (default: settings demo.calls; unset there: every 2021 late fire).",
)
@click.option("--no-crews", is_flag=True, help="Only replay calls; nobody dispatches.")
@click.option(
    "--scenario",
    default=None,
    metavar="NAME|PATH",
    help="Play a surge scenario's crowd instead of the fires (crowd-crush, or a scenario .toml).",
)
def demo(
    url: str | None,
    speed: float | None,
    calls: int | None,
    no_crews: bool,
    scenario: str | None,
) -> None:
    """Replay the real 2021 late fires of all Seoul as 119 calls (or a surge scenario's crowd,
    --scenario crowd-crush); simulated dispatcher and crews act."""
    import threading

    from ops.demo import crowd_scenario_calls, replay, run_id_now, scenario_for

    settings = load_settings()
    if scenario is not None:
        from simulation.scenario import ScenarioError

        try:
            played = crowd_scenario_calls(scenario, run_id=run_id_now())
        except (ScenarioError, DataError) as err:
            raise click.BadParameter(str(err), param_hint="--scenario") from err
        limit = settings.demo.calls if calls is None else calls
        played = played if limit is None else played[:limit]
    else:
        played = scenario_for(
            settings.data.seoul_dir,
            calls=settings.demo.calls if calls is None else calls,
            run_id=run_id_now(),
        )
    pace = speed or settings.demo.speed
    base = url or _default_url()
    stop = threading.Event()
    if not no_crews:
        from dispatch.context import road_network
        from dispatch.crews import DemoCrews

        crews = DemoCrews(
            httpx.Client(base_url=base, timeout=10.0),
            road_network(settings),
            speed=pace,
            echo=click.echo,
        )
        threading.Thread(
            target=crews.run, kwargs={"stop": stop.is_set}, daemon=True, name="demo-crews"
        ).start()
    what = f"scenario {scenario}" if scenario is not None else "real 2021 fires"
    click.echo(f"demo: {len(played)} calls from {what}, at {pace:g}x")
    accepted = replay(played, url=base, speed=pace, echo=click.echo)
    click.echo(f"demo: done, {accepted}/{len(played)} calls accepted")
    if not no_crews:
        click.echo("demo: crews keep working; Ctrl-C stops")
        try:
            while True:
                time.sleep(1.0)
        finally:
            stop.set()
