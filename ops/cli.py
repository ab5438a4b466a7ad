"""The `goldentime` program: every command by name, registered from the upper floor.

Domain packages contribute their commands by name in ``PLUGIN_COMMANDS`` and ``BENCH_COMMANDS``
("module:attribute" of a click command), imported only when used (see :mod:`goldentime.cli`).
This table is the one place that names every package, so it lives here, above all of them.
"""

from __future__ import annotations

from goldentime.cli import make_cli, run

# Command name -> "module:attribute" of a click.Command, imported lazily.
PLUGIN_COMMANDS: dict[str, str] = {
    "up": "ops.commands.system:up",
    "config": "ops.commands.system:config",
    "worker": "ops.commands.system:worker",
    "console": "ops.commands.system:console",
    "broker": "ops.commands.system:broker",
    "contracts": "ops.commands.system:contracts",
    "db": "ops.commands.system:db",
    "chaos": "ops.commands.chaos:chaos",
    "topics": "goldentime.commands.topics:topics",
    "user": "console.cli:user",
    "call": "console.caller_media_cli:call",
    "demo": "ops.commands.demo:demo",
    "report": "dispatch.cli:report",
    "simulate": "ops.commands.simulate:simulate",
    "route": "routing.cli:route",
    "eta": "routing.cli:eta",
    "coverage": "routing.cli:coverage",
    "network": "routing.network_cli:network",
    "firemap": "ops.commands.firemap:firemap",
    "place": "places.cli:place",
    "video": "video_relay.cli:video",
    "sensors": "sensors.cli:sensors",
    "alert": "alerts.cli:alert",
    "eido": "exchange.cli:eido",
}

# `goldentime bench NAME` -> "module:attribute" of a click.Command.
BENCH_COMMANDS: dict[str, str] = {
    "routing": "bench.routing:command",
    "firemap": "bench.firemap:command",
    "places": "bench.places:command",
    "video": "bench.video:command",
    "alerts": "bench.alerts:command",
    "dispatch": "bench.dispatch:command",
    "sensors": "bench.sensors:command",
    "surge": "bench.surge:command",
    "scaleout": "bench.scaleout:command",
    "console": "bench.console:command",
}

cli = make_cli(commands=PLUGIN_COMMANDS, benches=BENCH_COMMANDS)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `goldentime` script and of ``python -m goldentime``."""
    run(cli, argv)
