"""Read side of surges and mass-casualty incidents, for the console.

:func:`active_surges` is the board's ``surges`` list (its banners); :func:`mci_of` is the
``mci`` object of an incident's detail. Plain JSON-ready dicts from the database alone, so any
console process answers the same as any other, before and after a worker restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.incident_store import CallRow, IncidentRow
from dispatch.mci_store import MciRow, PatientRow
from goldentime.contracts import IncidentStatus

log = logging.getLogger(__name__)

PlaceOf = Callable[[float, float], str | None]
ACTIVE = (IncidentStatus.OPEN.value, IncidentStatus.DISPATCHED.value, IncidentStatus.ON_SCENE.value)
MAX_SURGES = 50  # banners on one board; more would hide the queue


def dong_of(lat: float, lon: float) -> str | None:
    """The legal dong (else the gu) of a point, from the places gazetteer; None without it."""
    import places

    try:
        found = places.reverse(lat, lon)
    except places.PlacesError:
        log.warning("places: no gazetteer; surge banners name the gu")
        return None
    return found.dong or found.gu


def banner(calls: int, window_s: float, place: str | None) -> str:
    """The board's line, e.g. ``"37 calls in 10 min at 이태원동"``."""
    where = f" at {place}" if place else ""
    return f"{calls} calls in {window_s / 60:.0f} min{where}"


def active_surges(
    session: Session, *, now: datetime, place_of: PlaceOf | None = dong_of
) -> list[dict[str, Any]]:
    """Surges still under way: an MCI incident still active whose last surge call came within
    its window of ``now``. Newest first. ``place_of`` names the centre (default: its dong;
    None: the gu stored by the intake)."""
    rows = session.execute(
        select(MciRow)
        .join(IncidentRow, IncidentRow.id == MciRow.incident_id)
        .where(
            IncidentRow.status.in_(ACTIVE),
            MciRow.last_at >= now - timedelta(hours=2),  # index; the exact window below
        )
        .order_by(MciRow.last_at.desc())
        .limit(MAX_SURGES)
    ).scalars()
    out: list[dict[str, Any]] = []
    for row in rows:
        if (now - row.last_at).total_seconds() > row.window_s:
            continue
        place = (place_of(row.lat, row.lon) if place_of is not None else None) or row.place
        out.append(
            {
                "incident_id": row.incident_id,
                "lat": row.lat,
                "lon": row.lon,
                "radius_m": round(row.radius_m, 1),
                "calls_in_window": row.calls_in_window,
                "window_s": row.window_s,
                "place": place or None,
                "banner": banner(row.calls_in_window, row.window_s, place),
            }
        )
    return out


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def mci_of(session: Session, incident_id: str) -> dict[str, Any] | None:
    """The ``mci`` object of an incident's detail; None when it is not an MCI."""
    row = session.get(MciRow, incident_id)
    if row is None:
        return None
    patients = session.scalars(
        select(PatientRow).where(PatientRow.incident_id == incident_id).order_by(PatientRow.patient)
    ).all()
    calls = session.scalar(
        select(func.count()).select_from(CallRow).where(CallRow.incident_id == incident_id)
    )
    load: dict[str, dict[str, Any]] = {}
    for p in patients:
        entry = load.setdefault(
            p.er_id, {"er_id": p.er_id, "er_name": p.er_name, "patients": 0, "capacity": 0}
        )
        entry["patients"] += 1
        entry["capacity"] = p.er_capacity  # as of the latest assignment
    return {
        "incident_id": row.incident_id,
        "calls": int(calls or 0),
        "casualty_estimate": row.casualty_estimate,
        "casualty_reason": row.casualty_reason,
        "proposed_level": row.proposed_level,
        "proposed_reason": row.proposed_reason,
        "proposed_at": _iso(row.proposed_at),
        "confirmed_level": row.confirmed_level,
        "confirmed_by": row.confirmed_by,
        "confirmed_at": _iso(row.confirmed_at),
        "staging": (
            None
            if row.staging_lat is None or row.staging_lon is None
            else {"lat": row.staging_lat, "lon": row.staging_lon}
        ),
        "triage": {"red": row.red, "yellow": row.yellow, "green": row.green, "black": row.black},
        "patients": [
            {
                "patient": p.patient,
                "triage": p.triage,
                "er_id": p.er_id,
                "er_name": p.er_name,
                "eta_s": round(p.eta_s, 1),
                "reason": p.reason,
            }
            for p in patients
        ],
        "er_load": sorted(load.values(), key=lambda e: (-e["patients"], e["er_name"])),
    }
