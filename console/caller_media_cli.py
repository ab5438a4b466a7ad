"""``goldentime call``: post a call (as before) and ``call media-link CALL_ID``.

``goldentime call --lat .. --lon .. [DESCRIPTION]`` stays the intake command
(:func:`goldentime.commands.intake.call`); ``goldentime call media-link CALL_ID`` sends the
caller a one-time video/location link by SMS through the console's API.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import click
import httpx

from goldentime.commands.intake import _default_url
from goldentime.commands.intake import call as post_call
from goldentime.errors import GoldenTimeError


@click.command("media-link")
@click.argument("call_id")
@click.option("--url", default=None, help="Console URL (default from settings).")
@click.option("--phone", default=None, help="Caller's number (default: the call's caller).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--token",
    envvar="GOLDENTIME_API_TOKEN",
    default=None,
    help="API token of a dispatcher (`goldentime user token NAME`); env GOLDENTIME_API_TOKEN.",
)
def media_link(
    call_id: str, url: str | None, phone: str | None, as_json: bool, token: str | None
) -> None:
    """Send the caller of CALL_ID a one-time link (SMS) to stream video and location."""
    base = url or _default_url()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with httpx.Client(base_url=base, timeout=30.0, headers=headers) as client:
            response = client.post(
                f"/api/calls/{call_id}/media-link", json={"phone": phone} if phone else {}
            )
    except httpx.HTTPError as err:
        raise GoldenTimeError(f"cannot reach the console at {base}: {err}") from err
    if response.status_code in {401, 403}:
        raise click.ClickException(
            f"the console refused ({response.status_code}): give a dispatcher's API token "
            "with --token or GOLDENTIME_API_TOKEN"
        )
    if response.status_code != 200:
        detail: Any = response.text
        with contextlib.suppress(ValueError):
            detail = response.json().get("detail", detail)
        raise click.ClickException(f"no link for {call_id} ({response.status_code}): {detail}")
    body = response.json()
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False))
    else:
        click.echo(f"{body['url']}\nexpires {body['expires_at']} · SMS {body['sms_status']}")


class CallCommand(click.Group):
    """The intake command, with subcommands: ``call media-link`` goes to the subcommand,
    anything else to the intake command exactly as before."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        if args and args[0] in self.commands:
            return super().make_context(info_name, args, parent, **extra)
        return post_call.make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.command is post_call:
            return post_call.invoke(ctx)
        return super().invoke(ctx)


post_call.epilog = "Also: goldentime call media-link CALL_ID (caller video and location link)."
call = CallCommand(
    name="call",
    help=f"{post_call.help}\n\nSubcommand: `call media-link CALL_ID` (caller video link).",
    commands={"media-link": media_link},
)
