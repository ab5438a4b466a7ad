"""The golden-time report: per-incident intervals and compliance, overall and per gu.

Intervals follow NFPA 1710's names: call processing (call received -> first dispatch),
turnout (dispatch -> first unit en route), travel (en route -> first unit on scene), and the
total the Korean golden time is judged on: call received -> first unit on scene, within
7 minutes. Incidents with no unit on scene yet are listed as pending, not counted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.incident_store import IncidentRow
from goldentime.contracts import IncidentStatus

GOLDEN_TIME_S = 7 * 60


def _span(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 1)


@dataclass(frozen=True)
class IncidentIntervals:
    incident_id: str
    type: str
    gu: str | None
    status: str
    call_received_at: str
    processing_s: float | None
    turnout_s: float | None
    travel_s: float | None
    call_to_scene_s: float | None
    within_golden_time: bool | None


def intervals(row: IncidentRow) -> IncidentIntervals:
    total = _span(row.created_at, row.on_scene_at)
    return IncidentIntervals(
        incident_id=row.id,
        type=row.type,
        gu=row.gu,
        status=row.status,
        call_received_at=row.created_at.isoformat(),
        processing_s=_span(row.created_at, row.dispatched_at),
        turnout_s=_span(row.dispatched_at, row.en_route_at),
        travel_s=_span(row.en_route_at or row.dispatched_at, row.on_scene_at),
        call_to_scene_s=total,
        within_golden_time=None if total is None else total <= GOLDEN_TIME_S,
    )


def _share(rows: list[IncidentIntervals]) -> dict[str, Any]:
    judged = [r for r in rows if r.within_golden_time is not None]
    met = sum(1 for r in judged if r.within_golden_time)
    totals = sorted(r.call_to_scene_s for r in judged if r.call_to_scene_s is not None)
    return {
        "incidents": len(rows),
        "arrived": len(judged),
        "within_7min": met,
        "within_7min_pct": round(100 * met / len(judged), 1) if judged else None,
        "mean_call_to_scene_s": round(sum(totals) / len(totals), 1) if totals else None,
        "p90_call_to_scene_s": totals[int(0.9 * (len(totals) - 1))] if totals else None,
    }


def golden_time_report(session: Session, *, since: datetime | None = None) -> dict[str, Any]:
    query = select(IncidentRow).where(IncidentRow.status != IncidentStatus.MERGED.value)
    if since is not None:
        query = query.where(IncidentRow.created_at >= since)
    rows = [intervals(r) for r in session.scalars(query.order_by(IncidentRow.created_at))]
    by_gu: dict[str, list[IncidentIntervals]] = defaultdict(list)
    for row in rows:
        by_gu[row.gu or "(unknown)"].append(row)
    return {
        "since": since.isoformat() if since else None,
        "golden_time_s": GOLDEN_TIME_S,
        "overall": _share(rows),
        "by_gu": {gu: _share(items) for gu, items in sorted(by_gu.items())},
        "pending": [r.incident_id for r in rows if r.within_golden_time is None],
        "incidents": [asdict(r) for r in rows],
    }
