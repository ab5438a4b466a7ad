"""Public warnings in the console: the alerts router, acting as the signed-in supervisor.

The router of :mod:`alerts.api` names its acting user through the ``alerts.api.acting_user``
dependency; here it is the console principal (session, token or demo user), never a header
or a body field. Who may call what is in :data:`console.roles.ROUTE_ROLES` (drafting,
approving, cancelling: supervisors; the feed, the XML and the public pages: everyone; the
Twilio webhook: everyone, but it verifies ``X-Twilio-Signature``). Workflow and delivery
records go to ``alert.requests`` / ``alert.deliveries`` through the console's publisher.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from alerts.api import acting_user, create_router
from alerts.runtime import AlertsConfig
from alerts.service import AlertService, DeliverySummary
from console.guard import current_principal
from console.pages import BANNER_SLOT
from goldentime.settings import Settings

SUPERVISOR_PAGE = "/supervisor/alerts"


def console_user(request: Request) -> str:
    """The acting supervisor of an alerts route: the authenticated console user."""
    return current_principal(request).name


def mount_alerts(
    app: FastAPI,
    *,
    service: AlertService,
    config: AlertsConfig,
    settings: Settings,
    static_dir: Path,
    banner: str,
    on_delivered: Callable[[DeliverySummary], None] | None = None,
) -> None:
    """Add the alerts routes and the supervisor page (with the demo ``banner``) to ``app``."""
    app.include_router(
        create_router(
            service,
            twilio_auth_token=config.twilio_auth_token,
            status_callback_url=config.status_callback_url(settings),
            on_delivered=on_delivered,
        ),
        tags=["alerts"],
    )
    app.dependency_overrides[acting_user] = console_user

    @app.get(SUPERVISOR_PAGE, include_in_schema=False)
    def supervisor_alerts() -> HTMLResponse:
        text = (static_dir / "alerts.html").read_text(encoding="utf-8")
        return HTMLResponse(text.replace(BANNER_SLOT, banner))
