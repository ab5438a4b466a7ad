"""Command endpoints: what dispatchers and crews decide, published to the ``commands`` topic.

Each endpoint answers 202 with the command id once the command is in the intake outbox of the
incident database (``console.intake``: then published; sent again until applied); the dispatch
worker applies it (once, whatever the redelivery) and records the result, which
``GET /api/commands/{id}`` returns.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Path, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker

from console.guard import current_principal, note_command
from console.intake import DurableIntake
from console.roles import Principal
from dispatch import queries
from goldentime import topics
from goldentime.clock import Clock
from goldentime.contracts.core import Latitude, Longitude, RecordId
from goldentime.contracts.dispatch import Command, CommandAction, CommandResult, UnitStatus

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])
# An id in the path is a record id (the command carries it): 422 naming it, never a 500.
PathId = Annotated[
    str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")
]
# The actor of every command is the signed-in user, never a name the client sends.
Actor = Annotated[Principal, Depends(current_principal)]


class CommandAccepted(BaseModel):
    command_id: str
    status: str = "accepted"


class DispatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_ids: list[RecordId] = Field(
        default_factory=list,
        max_length=50,
        description="Units to send; empty: the incident's current recommendation.",
    )
    id: RecordId | None = Field(default=None, description="Command id, for safe retries.")


class StatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: UnitStatus
    lat: Latitude | None = None
    lon: Longitude | None = None
    id: RecordId | None = None


class PositionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: Latitude
    lon: Longitude
    id: RecordId | None = None


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=500)
    id: RecordId | None = None


class MergeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into_incident_id: RecordId
    id: RecordId | None = None


def own_unit(actor: Principal, unit_id: str) -> None:
    """Crews report for their own unit only; the control room for any unit."""
    if not actor.may_report_for(unit_id):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"{actor.name} rides unit {actor.unit_id or '(none)'}, not {unit_id}",
        )


SENDER_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "The incident database did not take the command (or the console is "
        "stopping): retry with the same id after Retry-After."
    }
}
Sender = Callable[..., Awaitable[CommandAccepted | JSONResponse]]


def command_sender(
    *, intake: DurableIntake, clock: Clock, on_sent: Callable[[], None] | None = None
) -> Sender:
    """``send(request, actor, key, **command_fields)``: the command in the intake outbox
    (202 with its id), or the intake's refusal (503)."""

    async def send(
        request: Request, actor: Principal, key: str, **fields: Any
    ) -> CommandAccepted | JSONResponse:
        command = Command(
            id=fields.pop("id", None) or f"cmd-{uuid.uuid4().hex[:16]}",
            at=clock.now(),
            actor=actor.name,
            **fields,
        )
        note_command(request, command.id)
        refused = await intake.accept(topics.COMMANDS, command, key=key, id_field="command_id")
        if refused is not None:
            return refused
        if on_sent is not None:
            on_sent()
        return CommandAccepted(command_id=command.id)

    return send


def command_route(app: FastAPI) -> Callable[[str], Callable[[Handler], Handler]]:
    """The decorator of a command route: POST, 202 with the command id, 503 documented."""

    def post(path: str) -> Callable[[Handler], Handler]:
        return app.post(
            path,
            status_code=status.HTTP_202_ACCEPTED,
            response_model=CommandAccepted,
            responses=SENDER_RESPONSES,
            tags=["commands"],
        )

    return post


def add_command_routes(
    app: FastAPI,
    *,
    intake: DurableIntake,
    sessions: sessionmaker[Session],
    clock: Clock,
    on_sent: Callable[[], None] | None = None,
) -> None:
    """Command routes; ``on_sent`` runs after the broker took a command (the change feed
    then polls fast, so the command's effect shows at once)."""
    send = command_sender(intake=intake, clock=clock, on_sent=on_sent)
    post = command_route(app)

    @post("/api/incidents/{incident_id}/dispatch")
    async def dispatch(
        incident_id: PathId, body: DispatchBody, request: Request, actor: Actor
    ) -> Any:
        """Send units (default: the recommended ones) to an incident."""
        return await send(
            request,
            actor,
            incident_id,
            id=body.id,
            action=CommandAction.DISPATCH,
            incident_id=incident_id,
            unit_ids=body.unit_ids,
        )

    @post("/api/incidents/{incident_id}/close")
    async def close(incident_id: PathId, body: NoteBody, request: Request, actor: Actor) -> Any:
        """Close an incident; its units start returning."""
        return await send(
            request,
            actor,
            incident_id,
            id=body.id,
            action=CommandAction.CLOSE,
            incident_id=incident_id,
            note=body.note,
        )

    @post("/api/incidents/{incident_id}/merge")
    async def merge(incident_id: PathId, body: MergeBody, request: Request, actor: Actor) -> Any:
        """Fold this incident (calls, events, units) into another one."""
        return await send(
            request,
            actor,
            incident_id,
            id=body.id,
            action=CommandAction.MERGE,
            incident_id=incident_id,
            into_incident_id=body.into_incident_id,
        )

    @post("/api/calls/{call_id}/unlink")
    async def unlink(call_id: PathId, body: NoteBody, request: Request, actor: Actor) -> Any:
        """Take a call (or video/sensor event) out of its incident into a new incident."""
        return await send(
            request,
            actor,
            call_id,
            id=body.id,
            action=CommandAction.UNLINK,
            call_id=call_id,
            note=body.note,
        )

    @post("/api/units/{unit_id}/status")
    async def unit_status(unit_id: PathId, body: StatusBody, request: Request, actor: Actor) -> Any:
        """A crew (or dispatcher) reports a unit's status, optionally with its position."""
        own_unit(actor, unit_id)
        return await send(
            request,
            actor,
            unit_id,
            id=body.id,
            action=CommandAction.UNIT_STATUS,
            unit_ids=[unit_id],
            unit_status=body.status,
            lat=body.lat,
            lon=body.lon,
        )

    @post("/api/units/{unit_id}/position")
    async def position(unit_id: PathId, body: PositionBody, request: Request, actor: Actor) -> Any:
        """AVL: a unit's current position (from its vehicle terminal)."""
        own_unit(actor, unit_id)
        return await send(
            request,
            actor,
            unit_id,
            id=body.id,
            action=CommandAction.POSITION,
            unit_ids=[unit_id],
            lat=body.lat,
            lon=body.lon,
        )

    @post("/api/units/{unit_id}/acknowledge")
    async def acknowledge(unit_id: PathId, body: NoteBody, request: Request, actor: Actor) -> Any:
        """A crew acknowledges its assignment."""
        own_unit(actor, unit_id)
        return await send(
            request,
            actor,
            unit_id,
            id=body.id,
            action=CommandAction.ACKNOWLEDGE,
            unit_ids=[unit_id],
            note=body.note,
        )

    @app.get("/api/commands/{command_id}", response_model=CommandResult, tags=["commands"])
    def command_result(command_id: str) -> CommandResult:
        """What became of a command (404 until the dispatch worker has applied it)."""
        with sessions() as session:
            result = queries.command_result(session, command_id)
        if result is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"command {command_id} not applied yet")
        return result
