"""Intake commands: post a 119 call, replay the demo scenario."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

import click
import httpx

from goldentime.contracts import IncidentType
from goldentime.errors import DataError, GoldenTimeError
from goldentime.settings import load_settings


def _default_url() -> str:
    settings = load_settings()
    return f"http://{settings.console_host}:{settings.console_port}"


@click.command()
@click.option("--lat", type=float, required=True, help="Latitude (WGS84).")
@click.option("--lon", type=float, required=True, help="Longitude (WGS84).")
@click.option(
    "--type",
    "incident_type",
    type=click.Choice([t.value for t in IncidentType]),
    required=True,
    help="What the caller reports.",
)
@click.option("--caller", default=None, help="Caller number or name.")
@click.option(
    "--uncertainty",
    "uncertainty_m",
    type=click.FloatRange(0, 50_000, min_open=True),
    default=None,
    help="Radius (m) of the circle the caller is in (AML, carrier location).",
)
@click.option(
    "--location-source",
    type=click.Choice(["aml", "network", "caller", "call_taker"]),
    default=None,
    help="Who gave the position.",
)
@click.option("--id", "call_id", default=None, help="Call id (default: a new one).")
@click.option("--url", default=None, help="Console URL (default from settings).")
@click.option(
    "--wait",
    type=float,
    default=5.0,
    show_default=True,
    help="Seconds to wait for the incident (0: do not wait).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--token",
    envvar="GOLDENTIME_API_TOKEN",
    default=None,
    help="API token (`goldentime user token NAME`); env GOLDENTIME_API_TOKEN.",
)
@click.argument("description", required=False, default="")
def call(
    lat: float,
    lon: float,
    incident_type: str,
    caller: str | None,
    uncertainty_m: float | None,
    location_source: str | None,
    call_id: str | None,
    url: str | None,
    wait: float,
    as_json: bool,
    token: str | None,
    description: str,
) -> None:
    """Post a 119 call to the console's intake API, and show the incident it became."""
    base = url or _default_url()
    body = {
        "id": call_id or f"cli-{uuid.uuid4().hex[:16]}",
        "received_at": datetime.now(UTC).isoformat(),
        "lat": lat,
        "lon": lon,
        "type": incident_type,
        "description": description,
        "source": "cli",
    }
    if caller:
        body["caller"] = caller
    if uncertainty_m is not None:
        body["location_uncertainty_m"] = uncertainty_m
    if location_source is not None:
        body["location_source"] = location_source
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with httpx.Client(base_url=base, timeout=10.0, headers=headers) as client:
            response = client.post("/api/calls", json=body)
            if response.status_code in {401, 403}:
                raise click.ClickException(
                    f"the console refused the call ({response.status_code}): give an API token "
                    "with --token or GOLDENTIME_API_TOKEN"
                )
            if response.status_code == 422:
                details = "; ".join(
                    f"{'.'.join(str(p) for p in d['loc'][1:])}: {d['msg']}"
                    for d in response.json()["detail"]
                )
                raise click.ClickException(f"call refused: {details}")
            if response.status_code != 202:
                raise click.ClickException(
                    f"call not taken ({response.status_code}): {response.text}"
                )
            result: dict[str, object] = {"call_id": body["id"], "status": "accepted"}
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                link = client.get(f"/api/calls/{body['id']}")
                if link.status_code == 200:
                    result |= link.json()
                    break
                time.sleep(0.1)
    except httpx.HTTPError as err:
        raise GoldenTimeError(f"cannot reach the console at {base}: {err}") from err
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    elif "incident_id" in result:
        click.echo(f"call {result['call_id']} -> incident {result['incident_id']}")
    else:
        click.echo(f"call {result['call_id']} accepted (incident not assigned yet)")


@click.command()
@click.option("--url", default=None, help="Console URL (default from settings).")
@click.option("--speed", type=float, default=None, help="Scenario seconds per real second.")
@click.option(
    "--calls",
    type=click.IntRange(0, 100_000),
    default=None,
    help="Calls to replay (default: settings demo_calls; unset there: every 2021 late fire).",
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

    from goldentime.demo import crowd_scenario_calls, replay, run_id_now, scenario_for

    settings = load_settings()
    if scenario is not None:
        from simulation.scenario import ScenarioError

        try:
            played = crowd_scenario_calls(scenario, run_id=run_id_now())
        except (ScenarioError, DataError) as err:
            raise click.BadParameter(str(err), param_hint="--scenario") from err
        limit = settings.demo_calls if calls is None else calls
        played = played if limit is None else played[:limit]
    else:
        played = scenario_for(
            settings.seoul_data_dir,
            calls=settings.demo_calls if calls is None else calls,
            run_id=run_id_now(),
        )
    pace = speed or settings.demo_speed
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
