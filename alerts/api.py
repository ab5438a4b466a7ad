"""HTTP routes of the alerts package, as a FastAPI router the console mounts.

Public (no user): ``GET /alerts/feed.atom``, ``GET /alerts/public``, ``GET /alerts/{id}.xml``,
``GET /alerts/{id}`` (a small bilingual page). Supervisors: ``/api/alerts...``; the acting
user comes from the :func:`acting_user` dependency (an ``X-GoldenTime-User`` header until the
console overrides it with its login) and never from the request body. Twilio posts delivery
receipts to ``POST /hooks/twilio/status``; a forged signature gets 403 and changes nothing.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, BackgroundTasks, Depends, Header, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from alerts.alert_store import AlertRow, AlertState
from alerts.compose import DraftRequest
from alerts.draft_preview import preview_draft
from alerts.errors import (
    AlertError,
    AreaError,
    CapInvalidError,
    DuplicateAlertError,
    TextBudgetError,
    WebhookRejectedError,
    WorkflowError,
)
from alerts.feed import atom_feed, public_entry
from alerts.public_page import alert_page as render_alert_page
from alerts.public_page import current_alerts_page
from alerts.receipts import verify_signature
from alerts.service import AlertService, DeliverySummary
from alerts.templates import TEMPLATES

CAP_MEDIA_TYPE = "application/cap+xml"


def acting_user(x_goldentime_user: Annotated[str, Header()]) -> str:
    """The supervisor acting; the console overrides this dependency with its login."""
    user = x_goldentime_user.strip()
    if not user:
        raise HTTPException(401, "X-GoldenTime-User is empty")
    return user


User = Annotated[str, Depends(acting_user)]


def _summary(row: AlertRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "state": row.state,
        "msg_type": row.msg_type,
        "template": row.template,
        "exercise": row.exercise,
        "references_id": row.references_id,
        "created_by": row.created_by,
        "approved_by": row.approved_by,
        "created_at": row.created_at.isoformat(),
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "text_ko": row.text_ko,
        "text_en": row.text_en,
    }


def _http_error(err: AlertError) -> HTTPException:
    if isinstance(err, DuplicateAlertError):
        return HTTPException(409, {"error": str(err), "previous_ids": err.previous_ids})
    if isinstance(err, AreaError | TextBudgetError | CapInvalidError):
        return HTTPException(422, {"error": str(err)})
    if isinstance(err, WorkflowError) and str(err).startswith("no alert"):
        return HTTPException(404, {"error": str(err)})
    if isinstance(err, WorkflowError):
        return HTTPException(409, {"error": str(err)})
    return HTTPException(502, {"error": str(err)})


def create_router(
    service: AlertService,
    *,
    twilio_auth_token: str | None = None,
    status_callback_url: str | None = None,
    on_delivered: Callable[[DeliverySummary], None] | None = None,
) -> APIRouter:
    """The alerts routes over ``service``; webhooks verify with ``twilio_auth_token``.

    ``on_delivered`` is told what each fan-out did (metrics).
    """
    router = APIRouter()

    def deliver(alert_id: str) -> None:
        summary = service.deliver(alert_id)
        if on_delivered is not None:
            on_delivered(summary)

    _add_public_routes(router, service)
    _add_staff_routes(router, service)
    _add_workflow_routes(router, service, deliver=deliver)
    _add_webhook_routes(
        router,
        service,
        twilio_auth_token=twilio_auth_token,
        status_callback_url=status_callback_url,
    )
    return router


def _add_public_routes(router: APIRouter, service: AlertService) -> None:
    """What citizens read: the CAP feed, the alerts and their pages (published, not drills)."""

    def public_row(alert_id: str) -> AlertRow:
        try:
            row = service.get(alert_id)
        except WorkflowError as err:
            raise HTTPException(404, "no such alert") from err
        if row.published_at is None or row.exercise:
            raise HTTPException(404, "no such alert")
        return row

    @router.get(
        "/alerts/feed.atom",
        response_class=Response,
        responses={200: {"content": {"application/atom+xml": {}}, "description": "CAP Atom feed"}},
    )
    def feed() -> Response:
        body = atom_feed(service.public_rows(), base_url=service.base_url, now=service.clock.now())
        return Response(body, media_type="application/atom+xml")

    @router.get("/alerts/public")
    def public() -> list[dict[str, Any]]:
        return [public_entry(r, base_url=service.base_url) for r in service.current_public_rows()]

    @router.get(
        "/alerts/{alert_id}.xml",
        response_class=Response,
        responses={200: {"content": {CAP_MEDIA_TYPE: {}}, "description": "The CAP 1.2 alert"}},
    )
    def alert_xml(alert_id: str) -> Response:
        return Response(public_row(alert_id).cap_xml.encode(), media_type=CAP_MEDIA_TYPE)

    @router.get("/alerts", response_class=HTMLResponse)
    def current_page() -> str:
        """Citizens: every current alert, Korean and English (linked from SMS and posts)."""
        rows = service.current_public_rows()
        return current_alerts_page([public_entry(r, base_url=service.base_url) for r in rows])

    @router.get("/alerts/{alert_id}", response_class=HTMLResponse)
    def alert_page(alert_id: str) -> str:
        return render_alert_page(public_entry(public_row(alert_id), base_url=service.base_url))


def _add_staff_routes(router: APIRouter, service: AlertService) -> None:
    """What the staff draft with: templates, areas, previews of unsaved drafts, drafts."""

    @router.get("/api/alerts/templates")
    def templates(user: User) -> list[dict[str, Any]]:
        """Warning templates with their fixed CAP fields and prepared cancellation."""
        return [
            {
                "key": t.key,
                "event_ko": t.event_ko,
                "event_en": t.event_en,
                "severity": t.severity.value,
                "urgency": t.urgency.value,
                "evacuation": t.evacuation,
                "instruction_ko": t.instruction_ko,
                "instruction_en": t.instruction_en,
                "cancel_ko": t.cancel_ko,
                "cancel_en": t.cancel_en,
            }
            for t in TEMPLATES.values()
        ]

    @router.get("/api/alerts/areas")
    def areas(user: User) -> list[dict[str, str]]:
        """The gu and administrative dong an alert can target, Korean and romanised."""
        return [
            {"kind": p.kind, "name_ko": p.name_ko, "name_en": p.name_en, "gu_ko": p.gu_ko}
            for p in service.gazetteer.places
        ]

    @router.post("/api/alerts/preview")
    def preview_unsaved(request: DraftRequest, user: User) -> dict[str, Any]:
        """What each channel would send for this draft; nothing is stored."""
        try:
            return preview_draft(service, request)
        except AlertError as err:
            raise _http_error(err) from err

    @router.post("/api/alerts", status_code=201)
    def draft(request: DraftRequest, user: User) -> dict[str, Any]:
        try:
            row = service.draft(request, user=user)
            return {**_summary(row), "preview": service.preview(row.id), "cap_xml": row.cap_xml}
        except AlertError as err:
            raise _http_error(err) from err


def _add_workflow_routes(
    router: APIRouter, service: AlertService, *, deliver: Callable[[str], None]
) -> None:
    """Approve and cancel (delivered in the background), the list, previews, deliveries."""

    @router.post("/api/alerts/{alert_id}/approve")
    def approve(
        alert_id: str, user: User, background: BackgroundTasks, confirm_duplicate: bool = False
    ) -> dict[str, Any]:
        try:
            row = service.approve(alert_id, user=user, confirm_duplicate=confirm_duplicate)
        except AlertError as err:
            raise _http_error(err) from err
        background.add_task(deliver, row.id)
        return _summary(row)

    @router.post("/api/alerts/{alert_id}/cancel")
    def cancel(alert_id: str, user: User, background: BackgroundTasks) -> dict[str, Any]:
        try:
            row = service.cancel(alert_id, user=user)
        except AlertError as err:
            raise _http_error(err) from err
        if row.state == AlertState.PUBLISHED:
            background.add_task(deliver, row.id)
        return _summary(row)

    @router.get("/api/alerts")
    def list_alerts(user: User) -> list[dict[str, Any]]:
        return [_summary(r) for r in service.list_rows()]

    @router.get("/api/alerts/{alert_id}/preview")
    def preview(alert_id: str, user: User) -> dict[str, Any]:
        try:
            return service.preview(alert_id)
        except AlertError as err:
            raise _http_error(err) from err

    @router.get("/api/alerts/{alert_id}/deliveries")
    def deliveries(alert_id: str, user: User) -> dict[str, int]:
        return service.delivery_counts(alert_id)


def _add_webhook_routes(
    router: APIRouter,
    service: AlertService,
    *,
    twilio_auth_token: str | None,
    status_callback_url: str | None,
) -> None:
    """Delivery receipts from the SMS gateway, verified with its signature."""

    @router.post("/hooks/twilio/status")
    async def twilio_status(request: Request) -> Response:
        if twilio_auth_token is None:
            # not a passing fault: Twilio must not keep retrying a hook that is not here
            return JSONResponse({"error": "webhook not configured"}, status_code=404)
        body = (await request.body()).decode("utf-8", "replace")
        params = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        url = status_callback_url or str(request.url)
        try:
            verify_signature(
                auth_token=twilio_auth_token,
                url=url,
                params=params,
                signature=request.headers.get("X-Twilio-Signature"),
            )
            outcome = await anyio.to_thread.run_sync(service.record_receipt, params)
        except WebhookRejectedError as err:
            return JSONResponse({"error": str(err)}, status_code=403)
        return JSONResponse({"duplicate": outcome.duplicate, "applied": outcome.applied})
