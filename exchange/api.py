"""HTTP routes of the exchange, for the console to mount (console/exchange_mount.py).

- ``GET /api/exchange/eido/{incident_id}``: the incident as an EIDO;
- ``POST /api/exchange/eido``: take an EIDO in (``?partner=`` a configured partner id; without
  it the EIDO's issuing element is named as the source) -> ``incident_id``, ``created``;
- ``POST /api/exchange/validate``: violations of a posted document;
- ``POST /api/exchange/incidents/{incident_id}/mutual-aid``: ask a partner for units;
- ``GET /api/exchange/requests``: requests sent and received, with their answers;
- ``POST /api/exchange/requests/decline``: decline a partner's request, with the reason;
- ``GET /api/exchange/partners``: the partner centres and whether each link is up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field

from exchange.export import IncidentNotFoundError
from exchange.importer import EidoRefusedError
from exchange.requests import RequestDesk
from exchange.service import ExchangeService, NotStoredYetError
from goldentime.errors import BrokerError


class ImportAnswer(BaseModel):
    incident_id: str
    created: bool
    call_id: str
    located: bool


class MutualAidRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    partner_id: str = Field(min_length=3, max_length=80)
    units: int = Field(default=1, ge=1, le=20, description="How many units are asked for.")
    note: str = Field(default="", max_length=500)


class DeclineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    request: str = Field(min_length=1, max_length=200, description="The request's id here.")
    reason: str = Field(min_length=1, max_length=300, description="Why; sent to the partner.")


def create_router(
    service: ExchangeService, desk: RequestDesk, *, connected: Callable[[str], bool]
) -> APIRouter:
    router = APIRouter()
    _add_eido_routes(router, service, connected=connected)
    _add_request_routes(router, desk)
    return router


def _add_eido_routes(
    router: APIRouter, service: ExchangeService, *, connected: Callable[[str], bool]
) -> None:
    """Partners and EIDO documents: export, import, validate."""

    @router.get("/api/exchange/partners", tags=["exchange"])
    def partners() -> list[dict[str, Any]]:
        """The configured partner centres and whether our link to each is up now."""
        return [
            {
                "id": p.id,
                "name": p.name,
                "reachable": p.url is not None,
                "connected": connected(p.id),
                "subscribe": p.subscribe,
            }
            for p in service.settings.exchange.partners
        ]

    @router.get("/api/exchange/eido/{incident_id}", tags=["exchange"])
    def get_eido(incident_id: str) -> dict[str, Any]:
        """The incident as a NENA EIDO (NENA-STA-021.1 JSON)."""
        try:
            return service.export(incident_id)
        except IncidentNotFoundError as err:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err

    @router.post("/api/exchange/eido", tags=["exchange"], response_model=ImportAnswer)
    async def post_eido(
        document: Annotated[dict[str, Any], Body()],
        partner: Annotated[str | None, Query(max_length=80)] = None,
    ) -> ImportAnswer:
        """Take an EIDO in as a call; answers once dispatch stored it."""
        known = {p.id: p for p in service.settings.exchange.partners}
        if partner is not None and partner not in known:
            raise HTTPException(422, f"partner: unknown {partner}")
        issuer = str(document.get("issuingElementIdentification") or "file")[:80]
        partner_id = partner or issuer
        name = known[partner].name if partner else issuer
        try:
            taken = await service.take(document, partner_id=partner_id, partner_name=name)
        except EidoRefusedError as err:
            raise HTTPException(422, str(err)) from err
        except (BrokerError, NotStoredYetError) as err:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"retry: {err}") from err
        return ImportAnswer(
            incident_id=taken.incident_id,
            created=taken.created,
            call_id=taken.call_id,
            located=taken.located,
        )

    @router.post("/api/exchange/validate", tags=["exchange"])
    def validate(document: Annotated[Any, Body()]) -> dict[str, Any]:
        """Violations of ``document`` against the configured EIDO schema."""
        if service.schema is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "no EIDO schema configured (eido_schema_dir)"
            )
        errors = service.schema.errors(document)
        return {
            "valid": not errors,
            "errors": [{"path": p, "rule": r} for p, r in errors],
            "normalised": [str(n) for n in service.schema.normalised],
        }


def _add_request_routes(router: APIRouter, desk: RequestDesk) -> None:
    """Mutual-aid requests: ask, decline, list."""

    @router.post("/api/exchange/incidents/{incident_id}/mutual-aid", tags=["exchange"])
    async def mutual_aid(incident_id: str, request: MutualAidRequest) -> dict[str, Any]:
        """Ask a partner centre for units for this incident (a requestForService)."""
        try:
            return await desk.ask(
                incident_id, partner_id=request.partner_id, units=request.units, note=request.note
            )
        except IncidentNotFoundError as err:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
        except ValueError as err:
            raise HTTPException(422, str(err)) from err

    @router.post("/api/exchange/requests/decline", tags=["exchange"])
    async def decline(body: DeclineRequest) -> dict[str, Any]:
        """Decline a partner's pending request; the answer (603, with the reason) goes back."""
        try:
            await asyncio.to_thread(desk.decline, body.request, reason=body.reason)
        except ValueError as err:
            raise HTTPException(422, str(err)) from err
        return {"request": body.request, "status": "declined"}

    @router.get("/api/exchange/requests", tags=["exchange"])
    def list_requests(
        incident_id: Annotated[str | None, Query(max_length=80)] = None,
    ) -> list[dict[str, Any]]:
        """Requests sent and received, newest first."""
        return desk.list(incident_id=incident_id)
