"""`goldentime alert ...`: validate CAP files, draft, approve and cancel public warnings.

``validate FILE`` exits 0 for a valid CAP 1.1/1.2 alert, 1 with the reasons for an invalid
one, 2 for a file it cannot read or refuses (an entity attack). ``draft`` composes and checks
a warning (``--xml`` prints its CAP, ``--save`` stores it as a draft); ``approve`` and
``cancel`` act on the database of ``settings.effective_database_url``.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from alerts.alert_store import create_tables
from alerts.areas import load_gazetteer
from alerts.capvalidate import require_publishable, validate_document
from alerts.capxml import serialize
from alerts.compose import compose, parse_request
from alerts.errors import CapRefusedError
from alerts.service import AlertService
from goldentime.clock import SystemClock
from goldentime.db import make_engine, session_factory
from goldentime.settings import load_settings


def _service() -> AlertService:
    settings = load_settings()
    engine = make_engine(settings.effective_database_url)
    create_tables(engine)
    return AlertService(
        sessions=session_factory(engine),
        gazetteer=load_gazetteer(settings.data.seoul_dir / "boundaries"),
        clock=SystemClock(),
        base_url=f"http://{settings.console.host}:{settings.console.port}",
    )


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


@click.group()
def alert() -> None:
    """Public warnings: CAP 1.2, two-person approval, SMS/social/feed."""


@alert.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strict-profile", is_flag=True, help="Profile problems make the file invalid.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def validate(file: Path, strict_profile: bool, as_json: bool) -> None:
    """Validate a CAP 1.1/1.2 file against the OASIS schema and the publishing profile."""
    try:
        data = file.read_bytes()
    except OSError as err:
        click.echo(f"{file}: cannot read: {err}", err=True)
        raise SystemExit(2) from err
    try:
        report = validate_document(data)
    except CapRefusedError as err:
        if as_json:
            click.echo(json.dumps({"file": str(file), "refused": str(err)}))
        else:
            click.echo(f"{file}: refused: {err}", err=True)
        raise SystemExit(2) from err
    invalid = not report.schema_valid or (strict_profile and bool(report.profile_errors))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "file": str(file),
                    "version": report.version,
                    "valid": not invalid,
                    "schema_errors": report.schema_errors,
                    "profile_errors": report.profile_errors,
                },
                ensure_ascii=False,
            )
        )
    else:
        if invalid:
            click.echo(f"{file}: INVALID CAP {report.version or '?'}")
        else:
            click.echo(f"{file}: valid CAP {report.version}")
        for reason in report.schema_errors:
            click.echo(f"  schema: {reason}")
        for reason in report.profile_errors:
            click.echo(f"  profile{'' if strict_profile else ' (warning)'}: {reason}")
    if invalid:
        raise SystemExit(1)


@alert.command()
@click.option("--event", required=True, help="Event (under 35 characters) or a template's event.")
@click.option(
    "--headline", required=True, help="Korean headline (English too if no --headline-en)."
)
@click.option("--headline-en", default=None, help="English headline.")
@click.option("--gu", "gus", multiple=True, required=True, help="Gu name (Korean or romanised).")
@click.option("--dong", "dongs", multiple=True, help="Administrative dong, e.g. '강남구 신사동'.")
@click.option("--template", default=None, help="Template key (fire_smoke, evacuation, ...).")
@click.option("--lang", default="ko,en", show_default=True, help="Languages, comma separated.")
@click.option("--exercise", is_flag=True, help="Exercise: status=Exercise, sandbox channels.")
@click.option("--expires-minutes", type=int, default=120, show_default=True)
@click.option("--xml", "print_xml", is_flag=True, help="Print the CAP XML of the draft.")
@click.option("--save", is_flag=True, help="Store the draft in the database for approval.")
@click.option("--confirm-duplicate", is_flag=True, help="Confirm a repeat within 24 h.")
@click.option("--user", default=_default_user, help="Drafting supervisor.")
def draft(
    event: str,
    headline: str,
    headline_en: str | None,
    gus: tuple[str, ...],
    dongs: tuple[str, ...],
    template: str | None,
    lang: str,
    exercise: bool,
    expires_minutes: int,
    print_xml: bool,
    save: bool,
    confirm_duplicate: bool,
    user: str,
) -> None:
    """Compose and check a warning; it is never published from here."""
    request = parse_request(
        {
            "template": template,
            "event": event,
            "headline_ko": headline,
            "headline_en": headline_en,
            "gu": list(gus),
            "dong": list(dongs),
            "languages": [x.strip() for x in lang.split(",") if x.strip()],
            "exercise": exercise,
            "expires_minutes": expires_minutes,
            "confirm_duplicate": confirm_duplicate,
        }
    )
    if save:
        service = _service()
        row = service.draft(request, user=user)
        if print_xml:
            click.echo(row.cap_xml, nl=False)
        else:
            click.echo(json.dumps(service.preview(row.id), ensure_ascii=False, indent=2))
        click.echo(f"draft {row.id} saved; another supervisor approves it", err=True)
        return
    settings = load_settings()
    composed = compose(
        request,
        gazetteer=load_gazetteer(settings.data.seoul_dir / "boundaries"),
        now=SystemClock().now(),
        base_url=f"http://{settings.console.host}:{settings.console.port}",
    )
    xml = serialize(composed.alert)
    require_publishable(xml)
    if print_xml:
        click.echo(xml.decode(), nl=False)
    else:
        summary = {
            "identifier": composed.alert.identifier,
            "class": composed.korean.disaster_class.value,
            "characters": composed.korean.characters,
            "budget": composed.korean.budget,
            "texts": composed.texts,
            "gu_codes": composed.gu_codes,
        }
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))


@alert.command()
@click.argument("alert_id")
@click.option("--user", default=_default_user, help="Approving supervisor (not the drafter).")
@click.option("--confirm-duplicate", is_flag=True, help="Confirm a repeat within 24 h.")
def approve(alert_id: str, user: str, confirm_duplicate: bool) -> None:
    """Approve and publish a draft drafted by another supervisor."""
    row = _service().approve(alert_id, user=user, confirm_duplicate=confirm_duplicate)
    click.echo(f"{row.id} published by {row.approved_by} (drafted by {row.created_by})")


@alert.command()
@click.argument("alert_id")
@click.option("--user", default=_default_user, help="Supervisor cancelling.")
def cancel(alert_id: str, user: str) -> None:
    """Withdraw a draft, or publish the prepared cancellation of a published alert."""
    row = _service().cancel(alert_id, user=user)
    if row.id == alert_id:
        click.echo(f"draft {alert_id} withdrawn")
    else:
        click.echo(f"{row.id} published: Cancel referencing {alert_id}")
