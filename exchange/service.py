"""Export and import of EIDOs over one incident record, with the intake as the only way in."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch import cell_of, incident_id_for, queries
from exchange.export import Centre, export_incident
from exchange.importer import EidoRefusedError, read_eido, remember
from exchange.link_store import Sessions
from exchange.schema import EidoSchema
from goldentime import topics
from goldentime.clock import Clock
from goldentime.contracts import Record
from goldentime.contracts.dispatch import Command, CommandAction
from goldentime.errors import GoldenTimeError
from goldentime.settings import Settings
from goldentime.topics import TopicSpec

Publish = Callable[[TopicSpec, Record, str], Awaitable[None]]
STORED_POLL_S = 0.05


class NotStoredYetError(GoldenTimeError):
    """The call was taken but dispatch has not stored it within the wait (it will)."""


@dataclass(frozen=True, slots=True)
class Imported:
    incident_id: str
    created: bool
    call_id: str
    located: bool


def centre_of(settings: Settings) -> Centre:
    return Centre(agency_id=settings.exchange.agency_id, name=settings.exchange.centre_name)


def schema_of(settings: Settings) -> EidoSchema | None:
    directory: Path | None = settings.exchange.eido_schema_dir
    return EidoSchema(directory) if directory is not None else None


def schema_problems(schema: EidoSchema | None, document: Any) -> str | None:
    """The first violations of ``document`` as one line, or None when it is valid."""
    if schema is None:
        return None
    errors = schema.errors(document)
    if not errors:
        return None
    shown = "; ".join(f"{path}: {rule}" for path, rule in errors[:3])
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return f"not a valid EIDO: {shown}{more}"


class ExchangeService:
    """Exports incidents and takes partners' EIDOs in as calls (published with ``publish``)."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessions: Sessions,
        publish: Publish,
        clock: Clock,
        schema: EidoSchema | None,
    ) -> None:
        self.settings = settings
        self.centre = centre_of(settings)
        self._db = sessions
        self._publish = publish
        self._clock = clock
        self.schema = schema

    def export(self, incident_id: str) -> dict[str, Any]:
        with self._db.reads() as session:
            return export_incident(session, incident_id, centre=self.centre)

    async def take(
        self,
        document: Any,
        *,
        partner_id: str,
        partner_name: str,
        wait_s: float = 10.0,
    ) -> Imported:
        """Take a partner's EIDO in as a call; wait until dispatch stored it.

        Raises EidoRefusedError (nothing stored) or NotStoredYetError.
        """
        problems = schema_problems(self.schema, document)
        if problems:
            raise EidoRefusedError(problems)
        now = self._clock.now()
        foreign = read_eido(
            document,
            partner_id=partner_id,
            partner_name=partner_name,
            unlocated=(self.settings.exchange.unlocated_lat, self.settings.exchange.unlocated_lon),
            now=now,
        )
        call = foreign.call
        own = await asyncio.to_thread(self._own_incident, foreign.incident_id)
        if own is not None:
            # one of our incidents coming back (a partner's copy keeps our incident id):
            # it is already here; taking it in again would add an echo of its own calls
            return Imported(incident_id=own, created=False, call_id="", located=foreign.located)

        def keep() -> bool:
            with self._db.writes.begin() as session:
                existed = queries.find_call(session, call.id) is not None
                remember(session, foreign, document, partner_id=partner_id, now=now)
                return existed

        existed = await asyncio.to_thread(keep)
        if not existed:
            await self._publish(topics.CALLS, call, cell_of(call.lat, call.lon))
        incident_id = await self._stored(call.id, wait_s=wait_s)
        return Imported(
            incident_id=incident_id,
            created=not existed and incident_id == incident_id_for(call.id),
            call_id=call.id,
            located=foreign.located,
        )

    def _own_incident(self, tracking_id: str) -> str | None:
        """Our incident id when ``tracking_id`` names an incident of this centre's record."""
        prefix, suffix = self.centre.incident_urn(""), f":{self.centre.agency_id}"
        head = prefix.removesuffix(suffix)
        if not (tracking_id.startswith(head) and tracking_id.endswith(suffix)):
            return None
        local_id = tracking_id[len(head) : -len(suffix)]
        with self._db.reads() as session:
            return local_id if queries.find_incident(session, local_id) is not None else None

    async def note(self, incident_id: str, text: str, *, partner_id: str, key: str) -> None:
        """Put an exchanged message on the incident's timeline (a ``note`` command to dispatch).

        ``key`` names the message: the same message noted twice is one timeline line.
        """
        digest = hashlib.sha256(f"{incident_id}\n{key}".encode()).hexdigest()[:24]
        command = Command(
            id=f"xn-{digest}",
            at=self._clock.now(),
            actor=f"exchange:{partner_id}"[:80],
            action=CommandAction.NOTE,
            incident_id=incident_id,
            note=text[:500],
        )
        await self._publish(topics.COMMANDS, command, incident_id)

    async def _stored(self, call_id: str, *, wait_s: float) -> str:
        deadline = time.monotonic() + wait_s

        def lookup() -> str | None:
            with self._db.reads() as session:
                call = queries.find_call(session, call_id)
                return None if call is None else call.incident_id

        while True:
            incident_id = await asyncio.to_thread(lookup)
            if incident_id is not None:
                return incident_id
            if time.monotonic() > deadline:
                raise NotStoredYetError(
                    f"call {call_id} taken but not stored by dispatch within {wait_s:.0f} s"
                )
            await asyncio.sleep(STORED_POLL_S)
