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

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dispatch.catalog import Catalog
from dispatch.cells import cell_of, cells_within
from dispatch.correlate import ACTIVE, CandidateIndex, OpenIncident, Signal, decide
from dispatch.store import (
    CallRow,
    IncidentRow,
    SignalRow,
    TimelineRow,
    incident_record,
    timeline_record,
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
        select(IncidentRow).where(
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


def _link_row(signal: Signal, incident_id: str, reason: str) -> CallRow | SignalRow:
    if signal.kind == "call":
        return CallRow(
            id=signal.id,
            incident_id=incident_id,
            received_at=signal.at,
            lat=signal.lat,
            lon=signal.lon,
            type=signal.type.value,
            caller=signal.payload.get("caller"),
            description=signal.description,
            source=signal.source,
            link_reason=reason,
            payload=signal.payload,
        )
    return SignalRow(
        id=signal.id,
        kind=signal.kind,
        incident_id=incident_id,
        at=signal.at,
        lat=signal.lat,
        lon=signal.lon,
        type=signal.type.value,
        link_reason=reason,
        payload=signal.payload,
    )


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
    timeline: list[TimelineRow] = []
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
        session.add(_link_row(signal, incident_id, decision.reason))
        entry = TimelineRow(
            id=f"{incident_id}:{signal.kind}:{signal.id}",
            incident_id=incident_id,
            at=signal.at,
            kind=kind,
            detail=decision.reason,
            actor=signal.source or signal.kind,
        )
        session.add(entry)
        timeline.append(entry)
        out.links[signal.id] = incident_id
        touched.add(incident_id)
    session.flush()
    for incident_id in sorted(touched):
        touched_row = rows.get(incident_id) or session.get(IncidentRow, incident_id)
        if touched_row is not None:
            session.refresh(touched_row)
            out.incidents.append(incident_record(touched_row))
    out.timeline = [timeline_record(t) for t in timeline]
    return out


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
