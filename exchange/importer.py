"""An EIDO from another centre as a 119 call here, through dispatch's own intake.

A received EIDO becomes one :class:`~goldentime.contracts.Call` on the ``calls`` topic, so the
same correlation rules decide whether it opens an incident or joins one, and nothing is
written behind dispatch's back. The call id is derived from the sender and the foreign
incident id, so a re-sent (or updated) EIDO is the same call and changes nothing in the
record; the latest document is kept in ``exchange_foreign_incidents`` for the re-export.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from exchange import mapping
from exchange.link_store import ForeignIncidentRow
from goldentime.contracts import Call, CallSource
from goldentime.contracts.core import LAT_RANGE, LON_RANGE
from goldentime.errors import GoldenTimeError

_POS = re.compile(r"<(?:\w+:)?pos>\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)\s*</(?:\w+:)?pos>")
_CIVIC = re.compile(r"<(country|A1|A2|A3|A4|A5|A6|PRD|RD|STS|POD|HNO|HNS|LMK|LOC|NAM|PC)>([^<]*)<")
_TEL = re.compile(r"^tel:(\+?[0-9\-]{3,30})$")
_TAGS = re.compile(r"<[^>]+>")
MAX_ID_LENGTH = 300  # exchange_foreign_incidents.foreign_incident_id


class EidoRefusedError(GoldenTimeError):
    """The EIDO cannot be taken; the message says why."""


@dataclass(frozen=True, slots=True)
class ForeignIncident:
    """What a received EIDO says about the incident, in our terms."""

    incident_id: str  # the foreign incident tracking id ($id)
    updated: str
    call: Call
    located: bool


def call_id_for(partner_id: str, foreign_incident_id: str) -> str:
    """The stable id of the call a partner's incident becomes (the same for every re-send)."""
    digest = hashlib.sha256(f"{partner_id}\n{foreign_incident_id}".encode()).hexdigest()
    return f"eido-{digest[:24]}"


def _dt(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _components(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    value = document.get(kind)
    return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []


def _position(location: dict[str, Any]) -> tuple[float, float] | None:
    text = location.get("locationByValue")
    if not isinstance(text, str):
        return None
    match = _POS.search(text)
    if not match:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    if LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]:
        return lat, lon
    return None


def _civic(location: dict[str, Any]) -> str:
    text = location.get("locationByValue")
    if not isinstance(text, str):
        url = location.get("locationByReferenceUrl")
        return f"by reference {url}" if isinstance(url, str) else ""
    return " ".join(v.strip() for _k, v in _CIVIC.findall(text) if v.strip())


def read_eido(
    document: Any,
    *,
    partner_id: str,
    partner_name: str,
    unlocated: tuple[float, float],
    now: datetime,
) -> ForeignIncident:
    """The call a partner's EIDO becomes; raises EidoRefusedError naming what is missing."""
    if not isinstance(document, dict):
        raise EidoRefusedError("an EIDO is a JSON object")
    foreign_id = document.get("$id")
    if not isinstance(foreign_id, str) or not foreign_id.strip():
        raise EidoRefusedError("$id: the EIDO has no incident id")
    if len(foreign_id) > MAX_ID_LENGTH:
        raise EidoRefusedError(f"$id: longer than {MAX_ID_LENGTH} characters")
    incident = document.get("incidentComponent")
    incident = incident if isinstance(incident, dict) else {}
    incident_type = mapping.incident_type_of(
        internal_code=incident.get("incidentTypeInternalCode"),
        registry_text=incident.get("incidentTypeCommonRegistryText"),
    )
    locations = _components(document, "locationComponent")
    wanted = {r["$ref"] for r in incident.get("locationReference") or [] if isinstance(r, dict)}
    ordered = sorted(locations, key=lambda c: (c.get("$id") not in wanted,))
    position = next((p for p in (_position(c) for c in ordered) if p is not None), None)
    civic = next((t for t in (_civic(c) for c in ordered) if t), "")
    calls = _components(document, "callComponent")
    starts = [t for t in (_dt(c.get("callStartTimestamp")) for c in calls) if t is not None]
    received = min(starts) if starts else _dt(document.get("lastUpdateTimeStamp")) or now
    caller = None
    for callback in _components(document, "callbackComponent"):
        for uri in callback.get("callBackInformationUri") or []:
            match = _TEL.match(str(uri))
            if match and caller is None:
                caller = match.group(1)[:64]
    notes = [
        _TAGS.sub("", str(n.get("notesActionComments", ""))).strip()
        for n in _components(document, "notesComponent")
    ]
    described = incident.get("incidentTypeInternalText") or ""
    parts = [f"[EIDO {partner_name}] {foreign_id}"]
    if described:
        parts.append(str(described))
    if position is None:
        parts.append(f"위치 미확인 (location not resolved): {civic or 'none given'}")
    parts.extend(n for n in notes[-3:] if n)
    lat, lon = position if position is not None else unlocated
    call = Call(
        id=call_id_for(partner_id, foreign_id),
        received_at=received.astimezone(UTC),
        lat=round(lat, 7),
        lon=round(lon, 7),
        type=incident_type,
        caller=caller,
        description=" | ".join(parts)[:2000],
        source=CallSource.API,
    )
    return ForeignIncident(
        incident_id=foreign_id,
        updated=str(document.get("lastUpdateTimeStamp", "")),
        call=call,
        located=position is not None,
    )


def remember(
    session: Session,
    foreign: ForeignIncident,
    document: dict[str, Any],
    *,
    partner_id: str,
    now: datetime,
) -> bool:
    """Keep the latest document of a foreign incident; True when it was new or newer."""
    row = session.get(ForeignIncidentRow, foreign.call.id)
    if row is None:
        session.add(
            ForeignIncidentRow(
                call_id=foreign.call.id,
                partner_id=partner_id,
                foreign_incident_id=foreign.incident_id,
                foreign_updated=foreign.updated,
                received_at=now,
                document=document,
            )
        )
        return True
    newer = _dt(foreign.updated)
    known = _dt(row.foreign_updated)
    if row.document == document or (newer and known and newer <= known):
        return False
    row.foreign_updated, row.document, row.received_at = foreign.updated, document, now
    return True
