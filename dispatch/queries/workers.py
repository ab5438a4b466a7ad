"""Reads of dispatch's workers: which are alive and how many call partitions each holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dispatch import incident_store
from dispatch.queries.views import WorkerView


def live_workers(session: Session, *, now: datetime, max_age_s: float) -> list[WorkerView]:
    """Workers heard from within ``max_age_s`` seconds of ``now``, by name."""
    return [
        WorkerView(
            name=r.name, started_at=r.started_at, last_seen=r.last_seen, partitions=r.partitions
        )
        for r in incident_store.live_workers(session, now=now, max_age_s=max_age_s)
    ]
