"""The shell of the `goldentime` command line: a click group whose commands are imported lazily.

The shell knows no command: the upper floor (:mod:`ops.cli`) hands it the table of names ->
"module:attribute" of a click command (``make_cli``), each imported only when used, so one
package's commands never slow down or break another's. Every GoldenTimeError becomes a
one-line message and exit code 2, never a traceback (``run``).
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from goldentime.errors import GoldenTimeError


def _load(spec: str, name: str) -> click.Command:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise click.ClickException(f"`{name}` is not available here: {err}") from err
    command = getattr(module, attr, None)
    if not isinstance(command, click.Command):
        raise click.ClickException(f"`{name}` is not available here ({spec} is not a command)")
    return command


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            return _load(self.lazy[cmd_name], cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            try:
                cmd = self.get_command(ctx, name)
            except click.ClickException:
                rows.append((name, "(not available)"))
                continue
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=70)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def make_cli(*, commands: dict[str, str], benches: dict[str, str]) -> click.Group:
    """The `goldentime` group with ``commands`` and a `bench` group with ``benches`` (both
    name -> "module:attribute" of a click command, imported on first use)."""

    @click.group(cls=LazyGroup, lazy=commands)
    @click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
    def cli(verbose: bool) -> None:
        """Golden Time: 119 emergency and disaster response command system."""
        logging.basicConfig(
            level=logging.DEBUG if verbose else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )

    @cli.group(cls=LazyGroup, lazy=benches)
    def bench() -> None:
        """Benchmarks: each prints its figures and its ratio against a baseline run."""

    return cli


def run(cli: click.Group, argv: list[str] | None = None) -> None:
    """Run ``cli`` as the `goldentime` program: errors become one line and an exit code."""
    try:
        code = cli.main(args=argv, prog_name="goldentime", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except GoldenTimeError as err:
        click.echo(f"goldentime: error: {err}", err=True)
        sys.exit(2)
    except SQLAlchemyError as err:
        reason = getattr(err, "orig", None) or err
        click.echo(f"goldentime: error: database: {reason}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    if isinstance(code, int) and code:
        sys.exit(code)
