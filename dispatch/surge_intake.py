"""Surge-aware correlation: the intake's side of mass-casualty incidents.

Per batch (inside the intake's transaction, after it locked the cells), :class:`SurgeDesk`
reads the calls of the last surge window around the batch's eligible calls, with the
incidents they belong to. For each new call of a type crowd callers report
(``dispatch.surge.SURGE_TYPES``) it asks :func:`dispatch.surge.find_surge` whether the call is
part of a space-time cluster; when it is, the call joins the area's MCI incident (the active
incident already an MCI, else the one holding most of the area's calls) with the surge's
reason, and the other active incidents of the area are folded into it (merged, with the reason
on both timelines). After the batch's rows are written, :meth:`SurgeDesk.apply` performs the
folds, re-estimates the casualties from the MCI's calls and proposes a response level (a
timeline entry whenever the proposal rises).

Incidents a dispatcher split off (a call unlinked from its incident) are never folded back in,
and ordinary traffic (fire, traffic collisions, ...) never takes part. Every state is read
from the database, so a restarted worker carries on; a replayed call is a duplicate before it
gets here (nothing changes); ids of the rows written derive from what caused them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from dispatch.cells import cell_index, cell_span
from dispatch.correlate import ACTIVE, OpenIncident, Signal
from dispatch.incident_store import CallRow, IncidentRow, SignalRow, TimelineRow, UnitRow
from dispatch.mci import CasualtyEstimate, LevelProposal, estimate_casualties, propose_level
from dispatch.mci_stations import StationAreas
from dispatch.mci_store import TRIAGE_COLUMNS, MciRow
from dispatch.surge import SURGE_TYPES, SurgeArea, SurgeCall, SurgeRules, find_surge, surge_reason
from goldentime.contracts import IncidentStatus, IncidentType
from goldentime.db import one_of
from goldentime.geo import span_degrees

CALLS = cast(Table, CallRow.__table__)
INCIDENTS = cast(Table, IncidentRow.__table__)
SIGNALS = cast(Table, SignalRow.__table__)
UNITS = cast(Table, UnitRow.__table__)
MCIS = cast(Table, MciRow.__table__)
TIMELINE = cast(Table, TimelineRow.__table__)

SPLIT_PREFIX = "unlinked from"  # dispatch.commands' unlink reason: a dispatcher's split
LINK_REASON_MAX = 300  # calls.link_reason
ESTIMATE_FIELDS = frozenset({"calls", "casualty_estimate", "casualty_reason", "updated_at"})
_ACTIVE = {s.value for s in ACTIVE}
_TYPES = {t.value: t for t in IncidentType}

GuLocator = Callable[[float, float], str | None]


@dataclass
class _Incident:
    """What the desk knows of an incident the surge search may touch."""

    id: str
    type: IncidentType
    status: str
    created_at: datetime
    mci: bool = False
    split: bool = False  # holds a call a dispatcher unlinked: never folded, never a target
    open: OpenIncident | None = None  # for the intake's attach path
    stored: tuple[int, float | None] | None = None  # (revision, clock skew)


@dataclass(frozen=True, slots=True)
class SurgeChoice:
    """A call is part of a surge: join ``incident_id`` (None: the ordinary rules place it,
    and the incident they give becomes the MCI) with ``reason``."""

    area: SurgeArea
    incident_id: str | None
    reason: str


@dataclass
class SurgeEffects:
    """What :meth:`SurgeDesk.apply` changed: incidents to re-read and timeline rows written."""

    incidents: set[str] = field(default_factory=set)
    timeline: list[dict[str, Any]] = field(default_factory=list)


def surge_call(signal: Signal) -> SurgeCall:
    """The surge search's view of a call signal."""
    uncertainty = signal.payload.get("location_uncertainty_m")
    caller = signal.payload.get("caller")
    return SurgeCall(
        id=signal.id,
        at=signal.at,
        lat=signal.lat,
        lon=signal.lon,
        type=signal.type,
        uncertainty_m=float(uncertainty) if uncertainty is not None else None,
        caller=str(caller) if caller else None,
        description=signal.description,
    )


def eligible(signal: Signal) -> bool:
    return signal.kind == "call" and signal.type in SURGE_TYPES


def surge_reach_m(rules: SurgeRules) -> float:
    """How far from a call the calls of its surge may be (both location circles counted):
    what the desk reads, and the cells the intake locks for it."""
    return 2 * rules.radius_m + 2 * rules.max_uncertainty_m


class SurgeDesk:
    """The surge state of one intake batch (see the module docstring)."""

    def __init__(
        self,
        session: Session,
        signals: Sequence[Signal],
        *,
        rules: SurgeRules,
        locate_gu: GuLocator,
        now: datetime,
        station_areas: StationAreas | None = None,
    ) -> None:
        self.rules, self.now, self._locate_gu = rules, now, locate_gu
        self._station_areas = station_areas
        self._reach_m = surge_reach_m(rules)
        self._calls: dict[tuple[int, int], list[SurgeCall]] = defaultdict(list)
        self._of: dict[str, str] = {}  # call id -> incident id
        self._incidents: dict[str, _Incident] = {}
        self._folded: dict[str, str] = {}  # source incident -> the MCI it is folded into
        self._areas: dict[str, SurgeArea] = {}  # MCI incident -> its latest area in the batch
        self._load(session, [s for s in signals if eligible(s)])

    # -- reading ---------------------------------------------------------------------------

    def _load(self, session: Session, calls: Sequence[Signal]) -> None:
        if not calls:
            return
        window = timedelta(seconds=self.rules.window_s)
        pad_lat, pad_lon = span_degrees(sum(s.lat for s in calls) / len(calls), self._reach_m * 1.5)
        c, i = CALLS.c, INCIDENTS.c
        rows = session.execute(
            select(
                c.id, c.received_at, c.lat, c.lon, c.type, c.location_uncertainty_m, c.caller,
                c.description, c.link_reason, i.id, i.type, i.status, i.created_at,
                i.lat, i.lon, i.last_activity_at, i.revision, i.clock_skew_s,
            )
            .join(INCIDENTS, i.id == c.incident_id)
            .where(
                c.received_at.between(
                    min(s.at for s in calls) - window, max(s.at for s in calls)
                ),
                c.lat.between(
                    min(s.lat for s in calls) - pad_lat, max(s.lat for s in calls) + pad_lat
                ),
                c.lon.between(
                    min(s.lon for s in calls) - pad_lon, max(s.lon for s in calls) + pad_lon
                ),
            )
        ).tuples()  # fmt: skip
        for row in rows:
            self._add_stored(row)
        if self._incidents:
            ids = list(self._incidents)
            dialect = session.get_bind().dialect.name
            for (incident_id,) in session.execute(
                select(MCIS.c.incident_id).where(one_of(MCIS.c.incident_id, ids, dialect=dialect))
            ).tuples():
                self._incidents[incident_id].mci = True

    def _add_stored(self, row: Any) -> None:
        (call_id, at, lat, lon, type_, unc, caller, text, reason, inc_id, inc_type, status,
         created, inc_lat, inc_lon, last_activity, revision, skew) = row  # fmt: skip
        call = SurgeCall(call_id, at, lat, lon, _TYPES[type_], unc, caller, text or "")
        self._calls[cell_index(lat, lon)].append(call)
        self._of[call_id] = inc_id
        known = self._incidents.get(inc_id)
        if known is None:
            known = self._incidents[inc_id] = _Incident(inc_id, _TYPES[inc_type], status, created)
            known.open = OpenIncident(
                inc_id, known.type, IncidentStatus(status), inc_lat, inc_lon, created,
                last_activity,
            )  # fmt: skip
            known.stored = (revision, skew)
        if reason.startswith(SPLIT_PREFIX):
            known.split = True

    def _near(self, call: SurgeCall) -> list[SurgeCall]:
        r0, r1, c0, c1 = cell_span(call.lat, call.lon, self._reach_m)
        found: list[SurgeCall] = []
        for row in range(r0, r1 + 1):
            for col in range(c0, c1 + 1):
                found.extend(self._calls.get((row, col), ()))
        return found

    def incident_of(self, call_id: str) -> str | None:
        incident_id = self._of.get(call_id)
        return None if incident_id is None else self._final(incident_id)

    def _final(self, incident_id: str) -> str:
        """The incident ``incident_id`` is folded into in this batch (itself when none)."""
        while incident_id in self._folded:
            incident_id = self._folded[incident_id]
        return incident_id

    def stored_incident(self, incident_id: str) -> tuple[OpenIncident, tuple[int, float | None]]:
        """An incident read by the desk, as the intake's attach path needs it."""
        known = self._incidents[incident_id]
        assert known.open is not None and known.stored is not None  # stored ones have both
        return known.open, known.stored

    # -- deciding --------------------------------------------------------------------------

    def choose(self, signal: Signal) -> SurgeChoice | None:
        """The surge ``signal`` belongs to and the incident it joins, or None (no surge)."""
        if not eligible(signal):
            return None
        call = surge_call(signal)
        area = find_surge(call, self._near(call), rules=self.rules)
        if area is None:
            return None
        place = self._locate_gu(area.lat, area.lon) or ""
        reason = surge_reason(area, distance_m=area.distance_m(call.lat, call.lon), place=place)
        return SurgeChoice(area, self._target(area), reason[:LINK_REASON_MAX])

    def _candidates(self, area: SurgeArea) -> dict[str, int]:
        """Active incidents of surge types holding the area's calls, and how many each."""
        counts: dict[str, int] = defaultdict(int)
        for call_id in area.call_ids:
            incident_id = self.incident_of(call_id)
            known = self._incidents.get(incident_id) if incident_id else None
            if (
                known is not None
                and known.status in _ACTIVE
                and known.type in SURGE_TYPES
                and not known.split
            ):
                counts[known.id] += 1
        return counts

    def _target(self, area: SurgeArea) -> str | None:
        counts = self._candidates(area)
        if not counts:
            return None

        def rank(incident_id: str) -> tuple[bool, int, datetime, str]:
            known = self._incidents[incident_id]
            # an MCI already; most of the area's calls; the oldest; the id (deterministic)
            return (not known.mci, -counts[incident_id], known.created_at, incident_id)

        return min(counts, key=rank)

    def linked(self, signal: Signal, incident_id: str, choice: SurgeChoice | None) -> list[str]:
        """``signal`` was linked to ``incident_id`` (opened by it when not known yet); the
        incidents now to be folded into it (the caller's correlation must skip them)."""
        if signal.kind != "call":
            return []
        call = surge_call(signal)
        self._calls[cell_index(call.lat, call.lon)].append(call)
        self._of[call.id] = incident_id
        if incident_id not in self._incidents:
            self._incidents[incident_id] = _Incident(
                incident_id, signal.type, IncidentStatus.OPEN.value, signal.at
            )
        if choice is None:
            return []
        target = self._incidents[incident_id]
        target.mci = True
        self._areas[incident_id] = choice.area
        # Another MCI is not folded in: its record (triage, a confirmed level, patients sent)
        # is a team's work on the scene; two MCIs of one area are merged by a dispatcher.
        folded = [
            other
            for other in self._candidates(choice.area)
            if other != incident_id and not self._incidents[other].mci
        ]
        for other in folded:
            self._folded[other] = incident_id
            self._incidents[other].status = IncidentStatus.MERGED.value
            open_ = self._incidents[other].open
            if open_ is not None:  # correlation skips it from now on
                open_.status = IncidentStatus.MERGED
        return folded

    # -- writing (after the batch's incidents, links and timeline are stored) ---------------

    def apply(self, session: Session) -> SurgeEffects:
        effects = SurgeEffects()
        for source in sorted(self._folded):
            self._fold(session, source, self._final(source), effects)
        for incident_id, area in sorted(self._areas.items()):
            if self._final(incident_id) == incident_id:
                self._update_mci(session, incident_id, area, effects)
        return effects

    def _fold(self, session: Session, source: str, target: str, effects: SurgeEffects) -> None:
        area = self._areas.get(target)
        why = f"surge at {area.lat:.5f},{area.lon:.5f}" if area is not None else "surge"
        for table in (CALLS, SIGNALS):
            moved = session.execute(
                select(table.c.id, table.c.link_reason).where(table.c.incident_id == source)
            ).tuples()
            values = [
                {"_id": link_id, "r": f"folded from {source} ({why}): {reason}"[:LINK_REASON_MAX]}
                for link_id, reason in moved
            ]
            if values:
                session.execute(
                    update(table)
                    .where(table.c.id == bindparam("_id"))
                    .values(incident_id=target, link_reason=bindparam("r")),
                    values,
                )
        session.execute(
            update(UNITS)
            .where(UNITS.c.incident_id == source)
            .values(incident_id=target, revision=UNITS.c.revision + 1, updated_at=self.now)
        )
        session.execute(
            update(INCIDENTS)
            .where(INCIDENTS.c.id == source)
            .values(
                status=IncidentStatus.MERGED.value,
                merged_into=target,
                revision=INCIDENTS.c.revision + 1,
                updated_at=self.now,
            )
        )
        at = area.last_at if area is not None else self.now
        self._log(
            session, effects, source, "surge_folded", f"folded into {target} ({why})", at,
            key=target,
        )  # fmt: skip
        self._log(
            session, effects, target, "surge_fold", f"{source} folded in ({why})", at, key=source
        )
        effects.incidents |= {source, target}

    def _log(
        self,
        session: Session,
        effects: SurgeEffects,
        incident_id: str,
        kind: str,
        detail: str,
        at: datetime,
        *,
        key: str = "",
    ) -> None:
        row = {
            "id": f"{incident_id}:{kind}:{key or detail[:60]}"[:200],
            "incident_id": incident_id,
            "at": at,
            "kind": kind,
            "detail": detail,
            "actor": "surge",
        }
        session.execute(TIMELINE.insert(), [row])
        effects.timeline.append(row)

    def _update_mci(
        self, session: Session, incident_id: str, area: SurgeArea, effects: SurgeEffects
    ) -> None:
        row = session.get(MciRow, incident_id)
        estimate, proposal = proposal_of(
            session,
            incident_id,
            centre=(area.lat, area.lon),
            calls_per_10min=round(area.calls_in_window * 600.0 / area.window_s),
            triage=None if row is None else triage_of(row),
            station_areas=self._station_areas,
            witnesses=area.several_callers,
        )
        surge: dict[str, Any] = {
            "lat": area.lat,
            "lon": area.lon,
            "radius_m": area.radius_m,
            "calls_in_window": area.calls_in_window,
            "window_s": area.window_s,
            "place": (self._locate_gu(area.lat, area.lon) or "")[:120],
            "last_at": area.last_at,
            "calls": estimate.calls,
            "casualty_estimate": estimate.estimate,
            "casualty_reason": estimate.reason,
            "updated_at": self.now,
        }
        if row is None:
            session.add(
                MciRow(
                    incident_id=incident_id,
                    first_at=area.first_at,
                    proposed_level=proposal.level,
                    proposed_reason=proposal.reason,
                    proposed_at=area.last_at,
                    red=0,
                    yellow=0,
                    green=0,
                    black=0,
                    created_at=self.now,
                    **surge,
                )
            )
            self._log(
                session, effects, incident_id, "mci_declared",
                f"mass-casualty incident: {estimate.reason}", area.last_at, key="1",
            )  # fmt: skip
            self._log_level(session, effects, incident_id, proposal.level, proposal.reason, area)
        else:
            newer = area.last_at >= row.last_at  # batches of partitions may lag others
            for name, value in surge.items():
                if newer or name in ESTIMATE_FIELDS:
                    setattr(row, name, value)
            if proposal.level > row.proposed_level:
                row.proposed_level, row.proposed_reason = proposal.level, proposal.reason
                row.proposed_at = area.last_at
                self._log_level(
                    session, effects, incident_id, proposal.level, proposal.reason, area
                )
        session.flush()
        effects.incidents.add(incident_id)

    def _log_level(
        self,
        session: Session,
        effects: SurgeEffects,
        incident_id: str,
        level: int,
        reason: str,
        area: SurgeArea,
    ) -> None:
        self._log(
            session, effects, incident_id, "level_proposed",
            f"level proposed: {reason}", area.last_at, key=str(level),
        )  # fmt: skip


def mci_calls(session: Session, incident_id: str) -> list[SurgeCall]:
    """Every call of an incident, as the casualty estimate reads them."""
    c = CALLS.c
    rows = session.execute(
        select(
            c.id, c.received_at, c.lat, c.lon, c.type, c.location_uncertainty_m, c.caller,
            c.description,
        ).where(c.incident_id == incident_id)
    ).tuples()  # fmt: skip
    return [
        SurgeCall(i, at, lat, lon, _TYPES[t], unc, caller, text or "")
        for i, at, lat, lon, t, unc, caller, text in rows
    ]


def triage_of(row: MciRow) -> dict[str, int] | None:
    """The START counts of an MCI row, None before any came from the scene."""
    counts = {t: int(getattr(row, t)) for t in TRIAGE_COLUMNS}
    return counts if any(counts.values()) else None


def proposal_of(
    session: Session,
    incident_id: str,
    *,
    centre: tuple[float, float],
    calls_per_10min: int,
    triage: dict[str, int] | None,
    station_areas: StationAreas | None = None,
    witnesses: int = 0,
) -> tuple[CasualtyEstimate, LevelProposal]:
    """The casualty estimate of an MCI from its calls and the level it calls for, with the
    station area around ``centre`` by road (``station_areas``; default: straight lines)."""
    estimate = estimate_casualties(mci_calls(session, incident_id))
    areas = station_areas if station_areas is not None else StationAreas()
    area = areas(session, *centre)
    proposal = propose_level(
        estimate,
        calls_per_10min=calls_per_10min,
        station_area=area,
        area_ambulances=None if area is not None else 0,
        witnesses=witnesses,
        triage=triage,
    )
    return estimate, proposal
