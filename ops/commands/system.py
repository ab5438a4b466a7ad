"""System commands: up, config, worker, console, broker, contracts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from goldentime.contracts import json_schemas
from goldentime.settings import describe, load_settings


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Console port (default: GOLDENTIME_CONSOLE_PORT or 8119; 0 picks a free one).",
)
@click.option("--no-demo", is_flag=True, help="Start without the demo scenario.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Dispatch worker processes (default: GOLDENTIME_DISPATCH_WORKERS).",
)
@click.option(
    "--partner-demo",
    is_flag=True,
    help="Also start a second centre (경기, its own port, data and database) that exchanges "
    "a joint-response and a mutual-aid request with this one (NENA EIDO over STA-024).",
)
@click.option(
    "--scenario",
    default=None,
    metavar="NAME|PATH",
    help="The demo also plays this surge scenario's crowd through the intake (crowd-crush).",
)
def up(
    port: int | None,
    no_demo: bool,
    workers: int | None,
    partner_demo: bool,
    scenario: str | None,
) -> None:
    """Start the whole system: broker (embedded if none configured), workers, console, demo."""
    from goldentime.logs import setup
    from ops import up as up_module

    if scenario is not None:
        from simulation.scenario import ScenarioError, load_scenario

        if no_demo:
            raise click.UsageError("--scenario is played by the demo: not with --no-demo")
        try:
            if load_scenario(scenario).crowd is None:
                raise click.BadParameter(
                    f"{scenario} has no [crowd] for the demo to play", param_hint="--scenario"
                )
        except ScenarioError as err:
            raise click.BadParameter(str(err), param_hint="--scenario") from err
    settings = load_settings()
    setup(settings.logging.level, fmt=settings.logging.format)
    raise SystemExit(
        up_module.run(
            settings,
            port=port,
            demo=not no_demo,
            workers=workers,
            partner_demo=partner_demo,
            scenario=scenario,
        )
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def config(as_json: bool) -> None:
    """Print the effective settings: value, environment variable, default, description."""
    rows = describe(load_settings())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    for row in rows:
        click.echo(f"{row['name']} = {row['value']!r}")
        click.echo(f"    env {row['env']}; default {row['default']!r}")
        click.echo(f"    {row['description']}")


@click.command()
@click.argument("role", type=click.Choice(["dispatch"]))
def worker(role: str) -> None:
    """Run one stream-processing worker (needs KAFKA_BOOTSTRAP_SERVERS)."""
    from goldentime.logs import setup

    settings = load_settings()
    setup(settings.logging.level, fmt=settings.logging.format)
    if role == "dispatch":
        from dispatch.worker import run
        from sensors.registry import load_registry

        # dispatch reads the structure registry of sensors without importing it: handed in here
        run(settings, structures=load_registry(settings.data.seoul_dir))


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port to listen on.")
def console(port: int | None) -> None:
    """Run the web console (needs KAFKA_BOOTSTRAP_SERVERS)."""
    from console.app import create_app
    from console.serve import serve
    from goldentime.logs import setup

    settings = load_settings()
    setup(settings.logging.level, fmt=settings.logging.format)
    serve(
        create_app(settings, warm_basemap=True),
        host=settings.console.host,
        port=settings.console.port if port is None else port,
    )


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=9092, show_default=True)
def broker(port: int) -> None:
    """Run the embedded Tansu broker in the foreground and create the topics."""
    from goldentime.broker import EmbeddedBroker, ensure_topics

    settings = load_settings()
    with EmbeddedBroker(port=port) as embedded:
        ensure_topics(
            embedded.bootstrap_servers,
            partitions=settings.broker.partitions,
            replication_factor=settings.broker.replication_factor,
        )
        click.echo(embedded.bootstrap_servers)
        try:
            while embedded.running():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass


@click.group()
def contracts() -> None:
    """Wire contracts."""


@contracts.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export(directory: Path) -> None:
    """Write the JSON Schema of each exported record (for telephony adapters)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, schema in json_schemas().items():
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        click.echo(str(path))


@click.group()
def db() -> None:
    """The incident database: schema migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database (DATABASE_URL) to this version's schema; run before an upgrade."""
    from goldentime.db import engine_for
    from goldentime.migrate import head_revision, upgrade

    upgrade(engine_for(load_settings()))
    click.echo(f"database at schema revision {head_revision()}")


@db.command("current")
def db_current() -> None:
    """Print the database's schema revision and the newest one this version knows."""
    from goldentime.db import engine_for
    from goldentime.migrate import current_revision, head_revision

    with engine_for(load_settings()).connect() as conn:
        revision = current_revision(conn)
    click.echo(f"database: {revision or '(empty)'}; this version: {head_revision()}")
