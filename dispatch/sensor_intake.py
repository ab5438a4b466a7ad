"""Act on a batch of structure alarms: incidents, closures, re-routes, warning drafts.

Runs in the worker's store thread. Idempotent by alarm id: an alarm already in
``sensor_alarms`` changes nothing, and every step is idempotent on its own (signal ids,
closure ids and timeline ids derive from the alarm id), so a batch redelivered after a crash
half-way re-does only what is missing and re-publishes the same records.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.catalog import Catalog
from dispatch.correlate import ACTIVE
from dispatch.incident_store import (
    IncidentRow,
    SensorAlarmRow,
    StructureClosureRow,
    TimelineRow,
    incident_record,
    timeline_record,
)
from dispatch.intake import GuLocator, ingest
from dispatch.reroute import reroute_around
from dispatch.structure_alarms import (
    StructureDirectory,
    StructureInfo,
    alarm_signal,
    alert_draft,
    cleared_line,
    closure_reason,
    describe,
    is_critical,
)
from dispatch.structure_closures import ClosureBook, closure_id_for, closure_record
from dispatch.unit_store import unit_record
from goldentime.contracts import Incident, TimelineEntry
from goldentime.contracts.alerts import AlertRequest
from goldentime.contracts.routing import ClosureAction, RoadClosure, RoutedUnitState
from goldentime.contracts.sensors import AlarmLevel, SensorAlarm

log = logging.getLogger(__name__)

ACTOR = "sensors"


@dataclass
class AlarmOutcome:
    incidents: list[Incident] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    units: list[RoutedUnitState] = field(default_factory=list)
    closures: list[RoadClosure] = field(default_factory=list)
    alerts: list[AlertRequest] = field(default_factory=list)
    handled: list[str] = field(default_factory=list)  # alarm ids acted on now
    duplicates: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # alarm ids of unknown structures


@dataclass
class AlarmHandler:
    """Everything the handler needs; one per worker."""

    writers: sessionmaker[Session]
    book: ClosureBook
    structures: StructureDirectory
    catalog: Catalog
    locate_gu: GuLocator

    def gu_of(self, structure: StructureInfo) -> str | None:
        return structure.gu or self.locate_gu(structure.lat, structure.lon)

    def handle(self, alarms: list[SensorAlarm], *, now: datetime) -> AlarmOutcome:
        out = AlarmOutcome()
        real = sorted((a for a in alarms if not a.fault), key=lambda a: (a.raised_at, a.id))
        with self.writers() as session:
            seen = set(
                session.scalars(
                    select(SensorAlarmRow.id).where(SensorAlarmRow.id.in_([a.id for a in real]))
                )
            )
        fresh: list[tuple[SensorAlarm, StructureInfo]] = []
        for alarm in real:
            structure = self.structures.get(alarm.structure_id)
            if alarm.id in seen:
                out.duplicates.append(alarm.id)
            elif structure is None:
                out.unknown.append(alarm.id)
            else:
                fresh.append((alarm, structure))
                seen.add(alarm.id)  # twice in one batch (a redelivery beside the original): once
        criticals = [alarm_signal(a, s) for a, s in fresh if is_critical(a)]
        links: dict[str, str] = {}
        if criticals:
            batch = ingest(
                self.writers, criticals, now=now, catalog=self.catalog, locate_gu=self.locate_gu
            )
            out.incidents.extend(batch.incidents)
            out.timeline.extend(batch.timeline)
            links = batch.links
        for alarm, structure in fresh:
            signal_id = alarm_signal(alarm, structure).id
            self._one(alarm, structure, links.get(signal_id), out, now=now)
            out.handled.append(alarm.id)
        return out

    # --- one alarm -------------------------------------------------------------------------------
    def _one(
        self,
        alarm: SensorAlarm,
        structure: StructureInfo,
        incident_id: str | None,
        out: AlarmOutcome,
        *,
        now: datetime,
    ) -> None:
        closed: StructureClosureRow | None = None
        reopened: StructureClosureRow | None = None
        with self.writers.begin() as session:
            episode = session.scalar(
                select(StructureClosureRow).where(
                    StructureClosureRow.structure_id == alarm.structure_id,
                    StructureClosureRow.reopened_at.is_(None),
                )
            )
            if is_critical(alarm):
                action = "incident"
                if episode is None and incident_id is not None:
                    closed = self._open_episode(session, alarm, structure, incident_id, out)
                    action = "incident+closure" if closed.edges else "incident (no graph edges)"
            else:
                incident_id = self._open_incident_of(session, alarm.structure_id, episode)
                if episode is not None and alarm.structure_level is not AlarmLevel.CRITICAL:
                    reopened = self._close_episode(session, episode, alarm, structure, out, now)
                    action = "reopened"
                elif incident_id is not None:
                    kind = (
                        "structure_cleared"
                        if alarm.level is AlarmLevel.CLEAR
                        else "structure_level"
                    )
                    detail = (
                        cleared_line(alarm, structure)
                        if alarm.level is AlarmLevel.CLEAR
                        else describe(alarm, structure)
                    )
                    self._log(session, incident_id, kind, detail, alarm, out)
                    action = "timeline"
                else:
                    action = "no open incident"
            session.add(
                SensorAlarmRow(
                    id=alarm.id,
                    structure_id=alarm.structure_id,
                    level=alarm.level.value,
                    structure_level=alarm.structure_level.value,
                    raised_at=alarm.raised_at,
                    incident_id=incident_id,
                    action=action,
                    handled_at=now,
                )
            )
        if closed is not None and closed.edges:
            self._apply_closure(closed, structure, out, now=now)
        if reopened is not None and reopened.edges:
            self.book.reopen(reopened.id)

    def _open_incident_of(
        self, session: Session, structure_id: str, episode: StructureClosureRow | None
    ) -> str | None:
        """The open incident an earlier alarm of this structure opened or joined."""
        if episode is not None and episode.incident_id is not None:
            return episode.incident_id
        return session.scalar(
            select(SensorAlarmRow.incident_id)
            .join(IncidentRow, IncidentRow.id == SensorAlarmRow.incident_id)
            .where(
                SensorAlarmRow.structure_id == structure_id,
                IncidentRow.status.in_([s.value for s in ACTIVE]),
            )
            .order_by(SensorAlarmRow.raised_at.desc())
            .limit(1)
        )

    def _log(
        self,
        session: Session,
        incident_id: str,
        kind: str,
        detail: str,
        alarm: SensorAlarm,
        out: AlarmOutcome,
    ) -> None:
        entry_id = f"{incident_id}:{kind}:{closure_id_for(alarm.id)}"
        if session.scalar(select(TimelineRow.seq).where(TimelineRow.id == entry_id)) is not None:
            return
        row = TimelineRow(
            id=entry_id, incident_id=incident_id, at=alarm.raised_at, kind=kind,
            detail=detail[:2000], actor=ACTOR,
        )  # fmt: skip
        session.add(row)
        session.flush()
        out.timeline.append(timeline_record(row))

    def _open_episode(
        self,
        session: Session,
        alarm: SensorAlarm,
        structure: StructureInfo,
        incident_id: str,
        out: AlarmOutcome,
    ) -> StructureClosureRow:
        edges = self.book.usable_edges(structure.edges)
        row = StructureClosureRow(
            id=closure_id_for(alarm.id),
            structure_id=structure.structure_id,
            structure_name=structure.name,
            edges=[list(e) for e in edges],
            reason=closure_reason(alarm, structure),
            incident_id=incident_id,
            closed_at=alarm.raised_at,
            reopened_at=None,
            reopen_reason="",
        )
        session.add(row)
        if edges:
            detail = f"closed {len(edges)} road edge(s) of {structure.name} in routing ({row.id})"
        elif structure.edges:
            detail = f"{structure.name}: its edges are not in the routable graph; nothing closed"
        else:
            detail = (
                f"{structure.name} lies outside the central road graph: no graph edges to "
                "close; crews must be told by radio"
            )
        self._log(session, incident_id, "road_closed", detail, alarm, out)
        gu = self.gu_of(structure)
        draft = alert_draft(alarm, structure, gu=gu, at=alarm.raised_at)
        out.alerts.append(draft)
        self._log(
            session, incident_id, "alert_requested",
            f"안전안내 warning draft {draft.alert_id} for {gu or '서울특별시'} sent to a "
            f"supervisor for approval: {draft.headline_ko}",
            alarm, out,
        )  # fmt: skip
        record = closure_record(row, action=ClosureAction.CLOSE)
        if record is not None:
            out.closures.append(record)
        return row

    def _close_episode(
        self,
        session: Session,
        episode: StructureClosureRow,
        alarm: SensorAlarm,
        structure: StructureInfo,
        out: AlarmOutcome,
        now: datetime,
    ) -> StructureClosureRow:
        line = cleared_line(alarm, structure)
        episode.reopened_at = alarm.raised_at
        episode.reopen_reason = line[:1000]
        if episode.incident_id is not None:
            reopened = "reopened in routing" if episode.edges else "no edges to reopen"
            self._log(
                session, episode.incident_id, "road_reopened", f"{line}; {reopened}", alarm, out
            )
        record = closure_record(episode, action=ClosureAction.REOPEN)
        if record is not None:
            out.closures.append(record)
        return episode

    def _apply_closure(
        self,
        row: StructureClosureRow,
        structure: StructureInfo,
        out: AlarmOutcome,
        *,
        now: datetime,
    ) -> None:
        self.book.close(row.id, row.edges, reason=row.reason)
        with self.writers.begin() as session:
            rerouted = reroute_around(
                session, self.book, row.id, structure_name=structure.name, now=now
            )
            out.units.extend(unit_record(u) for u in rerouted.units)
            out.timeline.extend(rerouted.timeline)
            touched = {u.incident_id for u in rerouted.units if u.incident_id}
            for incident_id in sorted(touched):
                incident = session.get(IncidentRow, incident_id)
                if incident is not None:
                    out.incidents.append(incident_record(incident))
        if rerouted.units:
            log.info("%s: re-routed %d unit(s)", structure.name, len(rerouted.units))
