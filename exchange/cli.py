"""`goldentime eido`: validate, export and import NENA EIDO documents.

- ``eido validate FILE``: exit 0 valid, 1 invalid (each violation: path and rule), 2 unreadable
  input or no schema configured (the message says where to get it);
- ``eido export INCIDENT_ID [--url URL]``: one EIDO JSON document (from the database, or from a
  running console);
- ``eido import FILE [--url URL] --json``: through a running console's intake ->
  ``incident_id``, ``created``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import httpx

from goldentime.errors import ConfigError, GoldenTimeError
from goldentime.settings import load_settings

API_KEY_HELP = "API token (`goldentime user token NAME`); env GOLDENTIME_API_TOKEN."


def _read(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise GoldenTimeError(f"{path}: cannot read a JSON document: {err}") from err


def _console_url(url: str | None) -> str:
    if url:
        return url.rstrip("/")
    settings = load_settings()
    return f"http://{settings.console.host}:{settings.console.port}"


def _client(url: str | None, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=_console_url(url), timeout=30.0, headers=headers)


def _answer(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise GoldenTimeError(f"console answered {response.status_code}: {detail}")
    return response.json()


@click.group()
def eido() -> None:
    """NENA EIDO (NENA-STA-021.1): validate, export, import."""


@eido.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def validate(file: str, as_json: bool) -> None:
    """Check FILE against NENA's EIDO schema (settings exchange.eido_schema_dir)."""
    from exchange.schema import SCHEMA_SOURCE, EidoSchema

    document = _read(file)
    directory = load_settings().exchange.eido_schema_dir
    if directory is None:
        raise ConfigError(
            "no EIDO schema configured: set GOLDENTIME_EIDO_SCHEMA_DIR to the directory holding "
            f"NENA's openapi.yaml and NIEMComponents/ (from {SCHEMA_SOURCE})"
        )
    schema = EidoSchema(directory)
    errors = schema.errors(document)
    normalised = [str(n) for n in schema.normalised]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "valid": not errors,
                    "errors": [{"path": p, "rule": r} for p, r in errors],
                    "normalised": normalised,
                },
                ensure_ascii=False,
            )
        )
    else:
        for path, rule in errors:
            click.echo(f"{path}: {rule}")
        for line in normalised:
            click.echo(f"schema defect normalised: {line}", err=True)
        click.echo(f"{file}: {'valid' if not errors else f'{len(errors)} violation(s)'}")
    sys.exit(1 if errors else 0)


@eido.command()
@click.argument("incident_id")
@click.option("--url", default=None, help="Console URL (default: read the database directly).")
@click.option("--token", default=None, envvar="GOLDENTIME_API_TOKEN", help=API_KEY_HELP)
def export(incident_id: str, url: str | None, token: str | None) -> None:
    """Print INCIDENT_ID as one EIDO JSON document."""
    if url:
        with _client(url, token) as client:
            document = _answer(client.get(f"/api/exchange/eido/{incident_id}"))
    else:
        from exchange.export import export_incident
        from exchange.service import centre_of
        from goldentime.db import engine_for, session_factory

        settings = load_settings()
        sessions = session_factory(engine_for(settings))
        with sessions() as session:
            document = export_incident(session, incident_id, centre=centre_of(settings))
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


@eido.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--url", default=None, help="Console URL (default from settings).")
@click.option("--partner", default=None, help="The configured partner that sent it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: incident_id, created.")
@click.option("--token", default=None, envvar="GOLDENTIME_API_TOKEN", help=API_KEY_HELP)
def import_(
    file: str, url: str | None, partner: str | None, as_json: bool, token: str | None
) -> None:
    """Take FILE (an EIDO) in through the console's intake."""
    document = _read(file)
    params = {"partner": partner} if partner else {}
    with _client(url, token) as client:
        answer = _answer(client.post("/api/exchange/eido", json=document, params=params))
    if as_json:
        click.echo(json.dumps({"incident_id": answer["incident_id"], "created": answer["created"]}))
    else:
        verb = "opened" if answer["created"] else "joined"
        click.echo(f"{verb} {answer['incident_id']} (call {answer['call_id']})")


@eido.command(name="demo-exchange")
@click.option("--seoul", "seoul_url", required=True, help="The Seoul console URL.")
@click.option("--partner", "partner_url", required=True, help="The partner (경기) console URL.")
def demo_exchange(seoul_url: str, partner_url: str) -> None:
    """The partner demo's two requests (run by `goldentime up --partner-demo`)."""
    from exchange.demo import run_exchange

    run_exchange(seoul_url=seoul_url, partner_url=partner_url, echo=click.echo)
