"""Signal intake: store calls and video/sensor events, correlated into incidents, in batches.

One transaction per batch. Before deciding, the transaction locks every spatial cell the
batch's search radii touch (PostgreSQL advisory locks in sorted order; on SQLite the whole
transaction holds the write lock from BEGIN), so workers holding different partitions can never
both open an incident for the same event. Idempotent: a signal id already stored changes
nothing and re-publishes the incident it belongs to; new incident ids derive from the signal
that opened them, so a replay yields the same ids.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, lazyload, sessionmaker

from dispatch.catalog import Catalog
from dispatch.cells import cell_of, cells_within
from dispatch.correlate import ACTIVE, CandidateIndex, OpenIncident, Signal, decide
from dispatch.store import (
    CallRow,
    IncidentRow,
    SignalRow,
    TimelineRow,
    UnitRow,
    incident_record_of,
)
from goldentime.contracts import Incident, IncidentStatus, IncidentType, TimelineEntry
from goldentime.errors import StoreError

GuLocator = Callable[[float, float], str | None]


def incident_id_for(signal_id: str) -> str:
    """A stable incident id derived from the signal that opened it (replays give the same id)."""
    return "INC-" + hashlib.sha256(signal_id.encode()).hexdigest()[:12].upper()


@dataclass
class BatchOutcome:
    incidents: list[Incident] = field(default_factory=list)  # every incident touched
    timeline: list[TimelineEntry] = field(default_factory=list)
    new_incident_ids: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # signal id -> incident id
    duplicates: list[str] = field(default_factory=list)  # signal ids seen before


def lock_cells(session: Session, cells: Sequence[str]) -> None:
    """Serialize deciders on these cells (PostgreSQL; SQLite already holds the write lock)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for cell in sorted(set(cells)):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(cell.encode())})


def _known(session: Session, signals: Sequence[Signal]) -> dict[str, str]:
    calls = [s.id for s in signals if s.kind == "call"]
    others = [s.id for s in signals if s.kind != "call"]
    known: dict[str, str] = {}
    if calls:
        known |= dict(
            session.execute(select(CallRow.id, CallRow.incident_id).where(CallRow.id.in_(calls)))
            .tuples()
            .all()
        )
    if others:
        known |= dict(
            session.execute(
                select(SignalRow.id, SignalRow.incident_id).where(SignalRow.id.in_(others))
            )
            .tuples()
            .all()
        )
    return known


def _candidates(
    session: Session, signals: Sequence[Signal], catalog: Catalog
) -> dict[str, IncidentRow]:
    max_window = timedelta(seconds=max(catalog[t].window_s for t in IncidentType))
    since = min(s.at for s in signals) - max_window
    pad = catalog.max_radius_m / 111_000 * 1.5
    rows = session.scalars(
        select(IncidentRow)
        .options(lazyload("*"))  # correlation needs no members; they are queried in bulk
        .where(
            IncidentRow.status.in_([s.value for s in ACTIVE]),
            IncidentRow.last_activity_at >= since,
            IncidentRow.lat.between(
                min(s.lat for s in signals) - pad, max(s.lat for s in signals) + pad
            ),
            IncidentRow.lon.between(
                min(s.lon for s in signals) - pad, max(s.lon for s in signals) + pad
            ),
        )
    )
    return {row.id: row for row in rows}


def _open(row: IncidentRow) -> OpenIncident:
    return OpenIncident(
        id=row.id,
        type=IncidentType(row.type),
        status=IncidentStatus(row.status),
        lat=row.lat,
        lon=row.lon,
        created_at=row.created_at,
        last_activity_at=row.last_activity_at,
    )


def _link_values(signal: Signal, incident_id: str, reason: str) -> dict[str, Any]:
    """The row linking ``signal`` to its incident (``calls`` or ``incident_signals``)."""
    common = {
        "id": signal.id,
        "incident_id": incident_id,
        "lat": signal.lat,
        "lon": signal.lon,
        "type": signal.type.value,
        "link_reason": reason,
        "payload": signal.payload,
    }
    if signal.kind == "call":
        return common | {
            "received_at": signal.at,
            "caller": signal.payload.get("caller"),
            "description": signal.description,
            "source": signal.source,
        }
    return common | {"kind": signal.kind, "at": signal.at}


def _ingest(
    session: Session,
    signals: Sequence[Signal],
    *,
    now: datetime,
    catalog: Catalog,
    locate_gu: GuLocator,
) -> BatchOutcome:
    out = BatchOutcome()
    lock_cells(
        session, [c for s in signals for c in cells_within(s.lat, s.lon, catalog.max_radius_m)]
    )
    known = _known(session, signals)
    fresh: dict[str, Signal] = {}
    for signal in signals:
        if signal.id in known:
            out.duplicates.append(signal.id)
            out.links[signal.id] = known[signal.id]
        else:
            fresh.setdefault(signal.id, signal)  # the same id twice in one batch counts once
    rows = _candidates(session, list(fresh.values()), catalog) if fresh else {}
    index = CandidateIndex((_open(r) for r in rows.values()), search_radius_m=catalog.max_radius_m)
    touched: set[str] = set(known[s] for s in out.duplicates)
    call_links: list[dict[str, Any]] = []
    other_links: list[dict[str, Any]] = []
    for signal in sorted(fresh.values(), key=lambda s: (s.at, s.id)):
        decision = decide(signal, index.near(signal.lat, signal.lon), catalog)
        if decision.incident_id is None:
            incident_id = incident_id_for(signal.id)
            rule = catalog[signal.type]
            row = IncidentRow(
                id=incident_id,
                type=signal.type.value,
                status=IncidentStatus.OPEN.value,
                lat=signal.lat,
                lon=signal.lon,
                description=signal.description,
                created_at=signal.at,
                updated_at=now,
                revision=1,
                priority=rule.priority,
                gu=locate_gu(signal.lat, signal.lon),
                cell=cell_of(signal.lat, signal.lon),
                last_activity_at=signal.at,
            )
            session.add(row)
            rows[incident_id] = row
            index.add(_open(row))
            out.new_incident_ids.append(incident_id)
            kind = f"{signal.kind}_opened"
        else:
            incident_id = decision.incident_id
            row = rows[incident_id]
            row.revision += 1
            row.updated_at = now
            if signal.at > row.last_activity_at:
                row.last_activity_at = signal.at
                for candidate in index.near(row.lat, row.lon):
                    if candidate.id == incident_id:
                        candidate.last_activity_at = signal.at
            kind = f"{signal.kind}_attached"
        link = _link_values(signal, incident_id, decision.reason)
        (call_links if signal.kind == "call" else other_links).append(link)
        out.timeline.append(
            TimelineEntry(
                id=f"{incident_id}:{signal.kind}:{signal.id}",
                incident_id=incident_id,
                at=signal.at,
                kind=kind,
                detail=decision.reason,
                actor=signal.source or signal.kind,
            )
        )
        out.links[signal.id] = incident_id
        touched.add(incident_id)
    session.flush()  # new incidents first: links and timeline refer to them
    if call_links:
        session.execute(insert(CallRow), call_links)
    if other_links:
        session.execute(insert(SignalRow), other_links)
    if out.timeline:
        session.execute(
            insert(TimelineRow),
            [
                t.model_dump(include={"id", "incident_id", "at", "kind", "detail", "actor"})
                for t in out.timeline
            ],
        )
    out.incidents = _incident_records(session, rows, touched)
    return out


def _incident_records(
    session: Session, rows: dict[str, IncidentRow], touched: set[str]
) -> list[Incident]:
    """The current state of every touched incident, in four queries however many there are."""
    if not touched:
        return []
    ids = sorted(touched)
    missing = [i for i in ids if i not in rows]
    if missing:
        for row in session.scalars(
            select(IncidentRow).options(lazyload("*")).where(IncidentRow.id.in_(missing))
        ):
            rows[row.id] = row
    members: dict[str, dict[str, list[str]]] = {
        i: {"calls": [], "events": [], "units": []} for i in ids
    }
    for key, query in (
        (
            "calls",
            select(CallRow.incident_id, CallRow.id)
            .where(CallRow.incident_id.in_(ids))
            .order_by(CallRow.received_at, CallRow.id),
        ),
        (
            "events",
            select(SignalRow.incident_id, SignalRow.id)
            .where(SignalRow.incident_id.in_(ids))
            .order_by(SignalRow.at, SignalRow.id),
        ),
        (
            "units",
            select(UnitRow.incident_id, UnitRow.id)
            .where(UnitRow.incident_id.in_(ids))
            .order_by(UnitRow.id),
        ),
    ):
        for incident_id, member_id in session.execute(query).tuples():
            if incident_id is not None:
                members[incident_id][key].append(member_id)
    return [incident_record_of(rows[i], **members[i]) for i in ids if i in rows]


def ingest(
    sessions: sessionmaker[Session],
    signals: Sequence[Signal],
    *,
    now: datetime,
    catalog: Catalog,
    locate_gu: GuLocator = lambda _lat, _lon: None,
    attempts: int = 5,
) -> BatchOutcome:
    """Correlate and store ``signals`` in one transaction; idempotent by signal id.

    ``sessions`` must come from :func:`goldentime.db.writer`. Raises StoreError when the
    database cannot be used (the caller retries: the signals are valid and must not be lost).
    """
    if not signals:
        return BatchOutcome()
    last: Exception | None = None
    for _attempt in range(attempts):
        try:
            with sessions.begin() as session:
                return _ingest(session, signals, now=now, catalog=catalog, locate_gu=locate_gu)
        except (IntegrityError, OperationalError) as err:
            # A concurrent writer stored some of these signals first, or a lock timed out:
            # run the whole batch again; the stored ones now count as duplicates.
            last = err
        except SQLAlchemyError as err:
            raise StoreError(f"cannot store {len(signals)} signal(s): {err}") from err
    raise StoreError(f"cannot store {len(signals)} signal(s) after {attempts} attempts: {last}")
