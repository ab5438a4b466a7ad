"""Signal intake: store calls and video/sensor events, correlated into incidents, in batches.

One transaction per batch. Before deciding, the transaction locks every spatial cell the
batch's search radii touch (PostgreSQL advisory locks in sorted order; on SQLite the whole
transaction holds the write lock from BEGIN), so workers holding different partitions can never
both open an incident for the same event. Idempotent: a signal id already stored changes
nothing and re-publishes the incident it belongs to; new incident ids derive from the signal
that opened them, so a replay yields the same ids.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dispatch.catalog import Catalog
from dispatch.cells import cell_of, cells_within
from dispatch.correlate import ACTIVE, CandidateIndex, Decision, OpenIncident, Signal, decide
from dispatch.ids import incident_id_for as incident_id_for  # re-exported
from dispatch.incident_store import (
    CallRow,
    IncidentRow,
    SignalRow,
    TimelineRow,
    UnitRow,
    incident_record_of,
    larger_skew,
)
from dispatch.mci_stations import StationAreas
from dispatch.surge import SurgeRules
from dispatch.surge_intake import (
    LINK_REASON_MAX,
    SurgeChoice,
    SurgeDesk,
    eligible,
    surge_reach_m,
)
from goldentime.contracts import Incident, IncidentStatus, IncidentType, TimelineEntry
from goldentime.db import bulk_insert, one_of
from goldentime.errors import StoreError
from goldentime.geo import M_PER_DEG_LAT
from goldentime.retry import RetriesExhaustedError, retry

GuLocator = Callable[[float, float], str | None]


@dataclass
class BatchOutcome:
    incidents: list[Incident] = field(default_factory=list)  # every incident touched
    timeline: list[TimelineEntry] = field(default_factory=list)
    new_incident_ids: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # signal id -> incident id
    duplicates: list[str] = field(default_factory=list)  # signal ids seen before


# Core tables: bulk statements without the ORM's per-object bookkeeping (the hot path)
INCIDENTS = cast(Table, IncidentRow.__table__)
CALLS = cast(Table, CallRow.__table__)
SIGNALS = cast(Table, SignalRow.__table__)
TIMELINE = cast(Table, TimelineRow.__table__)
UNITS = cast(Table, UnitRow.__table__)
UPDATED_COLUMNS = ("revision", "updated_at", "last_activity_at", "clock_skew_s")


def lock_cells(
    session: Session,
    signals: Sequence[Signal],
    radius_m: float,
    *,
    surge_reach_m: float = 0.0,
) -> None:
    """Serialize deciders on every cell the signals' search circles touch (PostgreSQL
    advisory locks in sorted order; SQLite already holds the write lock: nothing to do).
    Calls a surge may take part in search (and fold) as far as ``surge_reach_m``."""
    if session.get_bind().dialect.name != "postgresql":
        return
    cells = {
        c
        for s in signals
        for c in cells_within(
            s.lat, s.lon, max(radius_m, surge_reach_m) if eligible(s) else radius_m
        )
    }
    for cell in sorted(cells):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(cell.encode())})


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _known(session: Session, signals: Sequence[Signal]) -> dict[str, str]:
    """Signal id -> incident id of the signals stored before."""
    known: dict[str, str] = {}
    for table, ids in (
        (CALLS, [s.id for s in signals if s.kind == "call"]),
        (SIGNALS, [s.id for s in signals if s.kind != "call"]),
    ):
        if ids:
            query = select(table.c.id, table.c.incident_id).where(
                one_of(table.c.id, ids, dialect=_dialect(session))
            )
            known |= dict(session.execute(query).tuples().all())
    return known


_TYPES = {t.value: t for t in IncidentType}  # a dict lookup instead of an enum call per row
_STATUSES = {s.value: s for s in IncidentStatus}


def _candidates(
    session: Session, signals: Sequence[Signal], catalog: Catalog
) -> tuple[dict[str, OpenIncident], dict[str, tuple[int, float | None]]]:
    """Open incidents that any of ``signals`` may belong to, and their (revision, clock skew).

    After an outage the partitions are read at different paces, so this may be thousands of
    incidents per batch: only the columns correlation needs are read, as tuples.
    """
    window = timedelta(seconds=catalog.max_window_s)
    since, until = min(s.at for s in signals) - window, max(s.at for s in signals) + window
    pad = catalog.max_radius_m / M_PER_DEG_LAT * 1.5  # degrees, on both axes
    c = INCIDENTS.c
    rows = session.execute(
        select(
            c.id,
            c.type,
            c.status,
            c.lat,
            c.lon,
            c.created_at,
            c.last_activity_at,
            c.revision,
            c.clock_skew_s,
        ).where(
            c.status.in_([s.value for s in ACTIVE]),
            c.last_activity_at.between(since, until),  # decide()'s time rule
            c.lat.between(min(s.lat for s in signals) - pad, max(s.lat for s in signals) + pad),
            c.lon.between(min(s.lon for s in signals) - pad, max(s.lon for s in signals) + pad),
        )
    ).tuples()
    found: dict[str, OpenIncident] = {}
    stored: dict[str, tuple[int, float | None]] = {}
    for id_, type_, status, lat, lon, created_at, last_activity_at, revision, skew in rows:
        found[id_] = OpenIncident(
            id_, _TYPES[type_], _STATUSES[status], lat, lon, created_at, last_activity_at
        )
        stored[id_] = (revision, skew)
    return found, stored


def _open(row: dict[str, Any]) -> OpenIncident:
    return OpenIncident(
        id=row["id"],
        type=IncidentType(row["type"]),
        status=IncidentStatus(row["status"]),
        lat=row["lat"],
        lon=row["lon"],
        created_at=row["created_at"],
        last_activity_at=row["last_activity_at"],
    )


def _new_incident(
    signal: Signal, *, now: datetime, catalog: Catalog, locate_gu: GuLocator
) -> dict[str, Any]:
    """Every column of the incident ``signal`` opens."""
    return {
        "id": incident_id_for(signal.id),
        "type": signal.type.value,
        "status": IncidentStatus.OPEN.value,
        "lat": signal.lat,
        "lon": signal.lon,
        "description": signal.description,
        "created_at": signal.at,
        "updated_at": now,
        "revision": 1,
        "priority": catalog[signal.type].priority,
        "gu": locate_gu(signal.lat, signal.lon),
        "cell": cell_of(signal.lat, signal.lon),
        "last_activity_at": signal.at,
        "dispatched_at": None,
        "en_route_at": None,
        "on_scene_at": None,
        "closed_at": None,
        "merged_into": None,
        "clock_skew_s": _skew_of(signal),
    }


def _skew_of(signal: Signal) -> float | None:
    """The sender's clock skew a call carries (``Call.clock_skew_s``), else None."""
    skew = signal.payload.get("clock_skew_s") if signal.kind == "call" else None
    return float(skew) if skew is not None else None


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
            "clock_skew_s": _skew_of(signal),
            "caller": signal.payload.get("caller"),
            "description": signal.description,
            "source": signal.source,
            "location_uncertainty_m": signal.payload.get("location_uncertainty_m"),
            "location_source": signal.payload.get("location_source"),
        }
    return common | {"kind": signal.kind, "at": signal.at}


def _surge_decision(
    signal: Signal,
    choice: SurgeChoice | None,
    *,
    index: CandidateIndex,
    catalog: Catalog,
    desk: SurgeDesk,
    indexed: dict[str, OpenIncident],
    stored: dict[str, tuple[int, float | None]],
) -> Decision:
    """Where ``signal`` goes: the surge's MCI incident when it is part of one (see
    dispatch.surge_intake), else the ordinary rules of dispatch.correlate."""
    if choice is None or choice.incident_id is None:
        ordinary = decide(signal, index.near(signal.lat, signal.lon, signal.at), catalog)
        if choice is None:
            return ordinary
        return Decision(
            ordinary.incident_id, f"{choice.reason}; {ordinary.reason}"[:LINK_REASON_MAX]
        )
    if choice.incident_id not in indexed:  # an area incident beyond the ordinary candidates
        indexed[choice.incident_id], stored[choice.incident_id] = desk.stored_incident(
            choice.incident_id
        )
        index.add(indexed[choice.incident_id])
    return Decision(choice.incident_id, choice.reason)


def _ingest(
    session: Session,
    signals: Sequence[Signal],
    *,
    now: datetime,
    catalog: Catalog,
    locate_gu: GuLocator,
    surge_rules: SurgeRules,
    station_areas: StationAreas | None = None,
) -> BatchOutcome:
    out = BatchOutcome()
    lock_cells(session, signals, catalog.max_radius_m, surge_reach_m=surge_reach_m(surge_rules))
    known = _known(session, signals)
    fresh: dict[str, Signal] = {}
    for signal in signals:
        if signal.id in known:
            out.duplicates.append(signal.id)
            out.links[signal.id] = known[signal.id]
        else:
            fresh.setdefault(signal.id, signal)  # the same id twice in one batch counts once
    indexed, stored = _candidates(session, list(fresh.values()), catalog) if fresh else ({}, {})
    # column values of the incidents this batch opens (all) or changes (those it changes)
    rows: dict[str, dict[str, Any]] = {}
    index = CandidateIndex(
        indexed.values(), search_radius_m=catalog.max_radius_m, window_s=catalog.max_window_s
    )
    touched: set[str] = set(known[s] for s in out.duplicates)
    new_rows: dict[str, dict[str, Any]] = {}
    # members linked in this batch, in the order the store lists them (time, then id)
    linked: dict[str, dict[str, list[str]]] = {}
    call_links: list[dict[str, Any]] = []
    other_links: list[dict[str, Any]] = []
    timeline_rows: list[dict[str, Any]] = []
    desk = SurgeDesk(
        session, list(fresh.values()), rules=surge_rules, locate_gu=locate_gu, now=now,
        station_areas=station_areas,
    )  # fmt: skip
    for signal in sorted(fresh.values(), key=lambda s: (s.at, s.id)):
        choice = desk.choose(signal)
        decision = _surge_decision(
            signal, choice, index=index, catalog=catalog, desk=desk, indexed=indexed, stored=stored
        )
        if decision.incident_id is None:
            row = _new_incident(signal, now=now, catalog=catalog, locate_gu=locate_gu)
            incident_id = row["id"]
            rows[incident_id] = new_rows[incident_id] = row
            indexed[incident_id] = _open(row)
            index.add(indexed[incident_id])
            out.new_incident_ids.append(incident_id)
            kind = f"{signal.kind}_opened"
        else:
            incident_id = decision.incident_id
            if incident_id not in rows:  # an incident stored before: what the update needs
                revision, skew = stored[incident_id]
                rows[incident_id] = {
                    "revision": revision,
                    "last_activity_at": indexed[incident_id].last_activity_at,
                    "clock_skew_s": skew,
                }
            row = rows[incident_id]
            row["revision"] += 1
            row["updated_at"] = now
            row["clock_skew_s"] = larger_skew(row["clock_skew_s"], _skew_of(signal))
            if signal.at > row["last_activity_at"]:
                row["last_activity_at"] = signal.at
                index.touch(indexed[incident_id], signal.at)
            kind = f"{signal.kind}_attached"
        link = _link_values(signal, incident_id, decision.reason)
        members = linked.setdefault(incident_id, {"calls": [], "events": []})
        if signal.kind == "call":
            call_links.append(link)
            members["calls"].append(signal.id)
        else:
            other_links.append(link)
            members["events"].append(signal.id)
        actor = signal.source or signal.kind
        timeline_rows.append(
            {
                "id": f"{incident_id}:{signal.kind}:{signal.id}",
                "incident_id": incident_id,
                "at": signal.at,
                "kind": kind,
                "detail": decision.reason,
                "actor": actor[:80],
            }
        )
        out.links[signal.id] = incident_id
        touched.add(incident_id)
        for folded in desk.linked(signal, incident_id, choice):
            if folded in indexed:  # correlation skips it from now on
                indexed[folded].status = IncidentStatus.MERGED
    connection = session.connection()
    if new_rows:  # new incidents first: links and timeline refer to them
        bulk_insert(connection, INCIDENTS, list(new_rows.values()))
    updated = sorted(rows.keys() - new_rows.keys())  # rows holds only new and changed ones
    if updated:
        session.execute(
            update(INCIDENTS).where(INCIDENTS.c.id == bindparam("_id")),
            [{"_id": i} | {c: rows[i][c] for c in UPDATED_COLUMNS} for i in updated],
        )
    bulk_insert(connection, CALLS, call_links)
    bulk_insert(connection, SIGNALS, other_links)
    bulk_insert(connection, TIMELINE, timeline_rows)
    effects = desk.apply(session)  # folds, MCI rows, level proposals: after the links exist
    out.timeline = [TimelineEntry.model_validate(t) for t in timeline_rows + effects.timeline]
    out.incidents = _incident_records(
        session,
        rows,
        touched | effects.incidents,
        new=new_rows.keys() - effects.incidents,  # moved members: read them back
        linked=linked,
    )
    return out


def _incident_records(
    session: Session,
    rows: dict[str, dict[str, Any]],
    touched: set[str],
    *,
    new: Collection[str],
    linked: dict[str, dict[str, list[str]]],
) -> list[Incident]:
    """The current state of every touched incident.

    Incidents opened by this batch have exactly the members linked here; the members of the
    others are read in three queries however many there are.
    """
    if not touched:
        return []
    ids = sorted(touched)
    older = [i for i in ids if i not in new]
    dialect = _dialect(session)
    if older:  # whole rows: candidates were read with a few columns, others not at all
        query = select(INCIDENTS).where(one_of(INCIDENTS.c.id, older, dialect=dialect))
        for row in session.execute(query).mappings():
            rows[row["id"]] = dict(row)
    members: dict[str, dict[str, list[str]]] = {
        i: {"calls": [], "events": [], "units": []} for i in older
    }
    for i in new:
        members[i] = {"calls": linked[i]["calls"], "events": linked[i]["events"], "units": []}
    if older:
        for key, query in (
            (
                "calls",
                select(CALLS.c.incident_id, CALLS.c.id)
                .where(one_of(CALLS.c.incident_id, older, dialect=dialect))
                .order_by(CALLS.c.received_at, CALLS.c.id),
            ),
            (
                "events",
                select(SIGNALS.c.incident_id, SIGNALS.c.id)
                .where(one_of(SIGNALS.c.incident_id, older, dialect=dialect))
                .order_by(SIGNALS.c.at, SIGNALS.c.id),
            ),
            (
                "units",
                select(UNITS.c.incident_id, UNITS.c.id)
                .where(one_of(UNITS.c.incident_id, older, dialect=dialect))
                .order_by(UNITS.c.id),
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
    also: Callable[[Session], None] | None = None,
    surge_rules: SurgeRules | None = None,
    station_areas: StationAreas | None = None,
) -> BatchOutcome:
    """Correlate and store ``signals`` in one transaction; idempotent by signal id.

    ``station_areas``: the station areas of MCIs by road (dispatch.mci_stations; default:
    by straight line).

    ``sessions`` must come from :func:`goldentime.db.writer`. ``also`` runs in the same
    transaction (the intake outbox rows of the records are settled there). Raises StoreError
    when the database cannot be used (the caller retries: the signals are valid and must not
    be lost).
    """
    if not signals:
        if also is not None:
            with sessions.begin() as session:
                also(session)
        return BatchOutcome()

    def once() -> BatchOutcome:
        with sessions.begin() as session:
            outcome = _ingest(
                session,
                signals,
                now=now,
                catalog=catalog,
                locate_gu=locate_gu,
                surge_rules=surge_rules or SurgeRules(),
                station_areas=station_areas,
            )
            if also is not None:
                also(session)
            return outcome

    try:
        # A concurrent writer stored some of these signals first, or a lock timed out: run
        # the whole batch again at once; the stored ones now count as duplicates.
        return retry(
            once,
            retry_if=lambda err: isinstance(err, IntegrityError | OperationalError),
            attempts=attempts,
        )
    except RetriesExhaustedError as err:
        raise StoreError(
            f"cannot store {len(signals)} signal(s) after {attempts} attempts: {err.last}"
        ) from err
    except SQLAlchemyError as err:
        raise StoreError(f"cannot store {len(signals)} signal(s): {err}") from err
