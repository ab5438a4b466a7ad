"""Intake command: post a 119 call to the console (`goldentime call`)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

import click
import httpx

from goldentime.contracts import IncidentType
from goldentime.errors import GoldenTimeError
from goldentime.settings import load_settings


def _default_url() -> str:
    settings = load_settings()
    return f"http://{settings.console.host}:{settings.console.port}"


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
