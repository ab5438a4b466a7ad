"""Surges and mass-casualty incidents on the console: the board's surge banners, and the
commands of an MCI (response level, START triage counts, staging point, patient distribution).

Reads come from the incident database (``dispatch.queries``); every decision goes through
the command path (``console.commands``: the intake outbox, then the ``commands`` topic, applied
once by the dispatch worker, its result at ``GET /api/commands/{id}``). Who may send which
command is the route policy (``console.roles``): confirming a response level is a
supervisor's decision, the other three are the control room's (dispatchers and supervisors).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker

from console.commands import Actor, PathId, Sender, command_route
from dispatch import queries
from goldentime.clock import Clock
from goldentime.contracts.core import Latitude, Longitude, RecordId
from goldentime.contracts.dispatch import CommandAction, TriageCounts

MAX_TRIAGE = 10_000  # as the TriageCounts contract bounds each count
PLACE_GRID_DIGITS = 4  # a surge's centre named to ~10 m: it moves a little with each call


@functools.lru_cache(maxsize=4096)
def _dong_at(lat: float, lon: float) -> str | None:
    return queries.dong_of(lat, lon)


def place_of(lat: float, lon: float) -> str | None:
    """The dong of a surge's centre (the gazetteer's reverse lookup, ~2.5 ms), remembered:
    the board re-reads the surges every few seconds and on every change of an incident."""
    return _dong_at(round(lat, PLACE_GRID_DIGITS), round(lon, PLACE_GRID_DIGITS))


class SurgeView(BaseModel):
    """One surge as the board shows it: where, how many calls in how long, and its incident."""

    incident_id: str = Field(description="The MCI incident the surge's calls are folded into.")
    lat: float
    lon: float
    radius_m: float = Field(description="Extent of the surge's calls around its centre.")
    calls_in_window: int = Field(description="Calls of the area in the last `window_s`.")
    window_s: float
    place: str | None = Field(default=None, description="Dong (or gu) of the centre.")
    banner: str = Field(description='The banner line, e.g. "37 calls in 10 min at 이태원동".')


class SurgeBoard(BaseModel):
    at: datetime = Field(description="When the surges were read (the console's clock).")
    surges: list[SurgeView]


class LevelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: int = Field(ge=1, le=3, description="대응 n단계: 1 station area, 2 neighbours, 3 city.")
    id: RecordId | None = Field(default=None, description="Command id, for safe retries.")


class TriageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    red: int = Field(default=0, ge=0, le=MAX_TRIAGE, description="Immediate (긴급).")
    yellow: int = Field(default=0, ge=0, le=MAX_TRIAGE, description="Delayed (응급).")
    green: int = Field(default=0, ge=0, le=MAX_TRIAGE, description="Minor (비응급).")
    black: int = Field(default=0, ge=0, le=MAX_TRIAGE, description="Dead or expectant (사망).")
    id: RecordId | None = None


class StagingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: Latitude
    lon: Longitude
    id: RecordId | None = None


class DistributeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: RecordId | None = None


def add_mci_routes(
    app: FastAPI,
    *,
    send: Sender,
    sessions: sessionmaker[Session],
    clock: Clock,
) -> None:
    """``GET /api/surges`` and the four MCI command routes under ``/api/incidents/{id}/mci/``."""
    post = command_route(app)

    @app.get("/api/surges", response_model=SurgeBoard, tags=["incidents"])
    def surges() -> SurgeBoard:
        """Active surges (many calls from one small area in minutes): the board's banners."""
        now = clock.now()
        with sessions() as session:
            found = queries.active_surges(session, now=now, place_of=place_of)
        return SurgeBoard(at=now, surges=[SurgeView.model_validate(s) for s in found])

    @post("/api/incidents/{incident_id}/mci/level")
    async def confirm_level(
        incident_id: PathId, body: LevelBody, request: Request, actor: Actor
    ) -> Any:
        """A supervisor confirms the response level (대응 1-3단계) of an MCI; the worker then
        assigns ambulances of the level's scope to the staging point."""
        return await send(
            request,
            actor,
            incident_id,
            id=body.id,
            action=CommandAction.MCI_LEVEL,
            incident_id=incident_id,
            level=body.level,
        )

    @post("/api/incidents/{incident_id}/mci/triage")
    async def triage(incident_id: PathId, body: TriageBody, request: Request, actor: Actor) -> Any:
        """START triage counts from the scene (they replace the previous counts)."""
        counts = TriageCounts(red=body.red, yellow=body.yellow, green=body.green, black=body.black)
        return await send(
            request,
            actor,
            incident_id,
            id=body.id,
            action=CommandAction.TRIAGE,
            incident_id=incident_id,
            triage=counts,
        )

    @post("/api/incidents/{incident_id}/mci/staging")
    async def staging(
        incident_id: PathId, body: StagingBody, request: Request, actor: Actor
    ) -> Any:
        """The staging point where arriving ambulances gather."""
        return await send(
            request,
            actor,
            incident_id,
            id=body.id,
            action=CommandAction.STAGING,
            incident_id=incident_id,
            lat=body.lat,
            lon=body.lon,
        )

    @post("/api/incidents/{incident_id}/mci/distribute")
    async def distribute(
        incident_id: PathId, body: DistributeBody, request: Request, actor: Actor
    ) -> Any:
        """Spread the triaged patients (red, yellow, green) over emergency rooms by ETA and
        capacity; every assignment goes on the timeline."""
        return await send(
            request,
            actor,
            incident_id,
            id=body.id,
            action=CommandAction.DISTRIBUTE,
            incident_id=incident_id,
        )


Enrich = Callable[[Session, list[dict[str, Any]]], None]


def with_mci_levels(enrich: Enrich) -> Enrich:
    """``enrich`` (the places of incident bodies), then ``mci_level`` on each body:
    ``{"proposed": n, "confirmed": n | None}`` for an MCI, else None: the queue's badge, in the
    incident list, the change feed and the detail alike."""

    def enrich_all(session: Session, bodies: list[dict[str, Any]]) -> None:
        enrich(session, bodies)
        if not bodies:
            return
        levels = queries.mci_levels(session, [b["id"] for b in bodies])
        for body in bodies:
            level = levels.get(body["id"])
            body["mci_level"] = (
                None
                if level is None
                else {"proposed": level.proposed, "confirmed": level.confirmed}
            )

    return enrich_all


def surge_reader(now: Callable[[], datetime]) -> Callable[[Session], list[dict[str, Any]]]:
    """The change feed's view of the surges (``console.live``): the same rows as the route."""

    def read(session: Session) -> list[dict[str, Any]]:
        return [
            SurgeView.model_validate(s).model_dump(mode="json")
            for s in queries.active_surges(session, now=now(), place_of=place_of)
        ]

    return read
