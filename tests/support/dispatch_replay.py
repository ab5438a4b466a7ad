"""Helpers for the replay tests and the dispatch benchmark: produce calls, read the grouping."""

from __future__ import annotations

from collections.abc import Sequence

from kafka import KafkaProducer
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dispatch.cells import cell_of
from dispatch.incident_store import CallRow, TimelineRow
from goldentime.contracts import Call, encode


def produce_calls(bootstrap: str, calls: Sequence[Call]) -> None:
    """Publish ``calls`` on the ``calls`` topic keyed by spatial cell, as the console does."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        for call in calls:
            producer.send("calls", key=cell_of(call.lat, call.lon).encode(), value=encode(call))
        producer.flush(timeout=30)
    finally:
        producer.close()


def stored_count(engine: Engine, prefix: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(CallRow).where(CallRow.id.like(f"{prefix}-%"))
            ).scalar_one()
        )


def stored_links(engine: Engine, prefix: str) -> dict[str, str]:
    """Call id -> incident id, for the stored calls of one replay."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(CallRow.id, CallRow.incident_id).where(CallRow.id.like(f"{prefix}-%"))
        )
        return {call_id: incident_id for call_id, incident_id in rows}


def stored_groups(links: dict[str, str]) -> set[frozenset[str]]:
    grouped: dict[str, set[str]] = {}
    for call_id, incident_id in links.items():
        grouped.setdefault(incident_id, set()).add(call_id)
    return {frozenset(g) for g in grouped.values()}


def call_timeline_entries(engine: Engine, incident_ids: set[str]) -> dict[str, list[str]]:
    """Incident id -> the call ids of its call_opened/call_attached timeline entries."""
    out: dict[str, list[str]] = {i: [] for i in incident_ids}
    with engine.connect() as conn:
        rows = conn.execute(
            select(TimelineRow.incident_id, TimelineRow.id, TimelineRow.kind).where(
                TimelineRow.kind.in_(["call_opened", "call_attached"])
            )
        )
        for incident_id, entry_id, _kind in rows:
            if incident_id in out:
                out[incident_id].append(entry_id.split(":call:", 1)[1])
    return out
