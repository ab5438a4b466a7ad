"""``goldentime user``: manage console accounts and API tokens in the incident database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from goldentime.clock import SystemClock
from goldentime.db import create_schema, engine_for, session_factory, writer
from goldentime.settings import load_settings

if TYPE_CHECKING:
    from console.accounts import Accounts


def _accounts() -> Accounts:
    from console.accounts import Accounts

    engine = engine_for(load_settings())
    create_schema(engine)
    return Accounts(session_factory(writer(engine)))  # read-then-write: BEGIN IMMEDIATE


@click.group()
def user() -> None:
    """Console users: add, list, API tokens."""


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(["dispatcher", "supervisor", "crew", "admin"]),
    help="Role (repeat for several).",
)
@click.option("--unit", "unit_id", default=None, help="Crew: the unit id they ride.")
@click.option("--replace", is_flag=True, help="Overwrite an existing user (new password).")
@click.password_option(
    "--password", envvar="GOLDENTIME_NEW_PASSWORD", help="Prompted when not given."
)
def add(
    name: str, roles: tuple[str, ...], unit_id: str | None, replace: bool, password: str
) -> None:
    """Add user NAME with one or more roles."""
    from console.roles import Role

    account = _accounts().add_user(
        name,
        roles=[Role(r) for r in roles],
        password=password,
        unit_id=unit_id,
        replace=replace,
        now=SystemClock().now(),
    )
    unit = f", unit {account.unit_id}" if account.unit_id else ""
    click.echo(f"user {account.name}: {','.join(sorted(account.roles))}{unit}")


@user.command("token")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Revoke every token of NAME instead.")
def token(name: str, revoke: bool) -> None:
    """Print a new API token for NAME (machine clients: Authorization: Bearer ...)."""
    accounts = _accounts()
    if revoke:
        click.echo(f"revoked {accounts.revoke_tokens(name)} token(s) of {name}")
        return
    click.echo(accounts.issue_token(name, now=SystemClock().now()))


@user.command("list")
def list_users() -> None:
    """Every user with roles, unit and state."""
    for account in _accounts().all():
        state = " (disabled)" if account.disabled else ""
        unit = f" unit={account.unit_id}" if account.unit_id else ""
        click.echo(f"{account.name}\t{','.join(sorted(account.roles))}{unit}{state}")
