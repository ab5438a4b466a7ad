"""Live updates for browsers: a change feed over the incident database, served as SSE.

Why poll the database rather than consume the ``incidents``/``units`` topics: the database is
the system of record, so the board shows exactly what ``GET /api/incidents/{id}`` would (a
recommendation, a unit assignment and a crew status are all committed rows, some of which are
never published on a topic); it needs no consumer group (on the embedded Tansu broker a new
group waits half the session timeout and "latest" offsets are wrong, see NOTES.md); and it
behaves the same with several console processes and across broker restarts. One poller per
console process fans out to every browser, so the database sees 4 small queries a second
whatever the number of viewers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dispatch import queries

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.1
# After a command from this console (a dispatcher's or crew's action), poll this often for a
# while: its effect (committed by the dispatch worker tens of ms later) reaches every board
# without waiting out the regular interval.
BOOST_INTERVAL_S = 0.025
BOOST_FOR_S = 2.0
# Rows may commit out of updated_at order (two workers); look back this far on every poll.
LOOKBACK = timedelta(seconds=5)
QUEUE_LIMIT = 2000
KEEPALIVE_S = 15.0
# The surge banners are read again when an incident changed (at most once a second: on a
# surge night incidents change on every poll, and naming each surge's place costs ~2.5 ms),
# and at least every 5 s (a surge ends when its window passes, with no row changing).
SURGE_REFRESH_S = 5.0
SURGE_MIN_INTERVAL_S = 1.0


@dataclass(frozen=True)
class Change:
    kind: str  # "incident", "unit" or "surges" (the whole list of active surges)
    data: dict[str, Any]

    def sse(self) -> str:
        return f"event: {self.kind}\ndata: {json.dumps(self.data, separators=(',', ':'))}\n\n"


RESYNC = Change(kind="resync", data={})


class ChangeFeed:
    """Finds incidents and units changed since the last poll and hands them to subscribers."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        interval_s: float = POLL_INTERVAL_S,
        enrich: Callable[[Session, list[dict[str, Any]]], None] | None = None,
        surges: Callable[[Session], list[dict[str, Any]]] | None = None,
        surge_refresh_s: float = SURGE_REFRESH_S,
        surge_min_interval_s: float = SURGE_MIN_INTERVAL_S,
    ):
        self._sessions = sessions
        self._enrich = enrich  # adds derived fields to incident bodies (places: the place)
        self._surges = surges  # the active surges (console.mci_routes.surge_reader)
        self._surges_sent: list[dict[str, Any]] | None = None
        self._surges_read_at: float | None = None
        self._surge_refresh_s = surge_refresh_s
        self._surge_min_interval_s = surge_min_interval_s
        self._interval_s = interval_s
        self._cursor: datetime | None = None
        self._seen: dict[tuple[str, str], tuple[Any, datetime]] = {}
        self._subscribers: set[asyncio.Queue[Change]] = set()
        self._boost_until = 0.0
        self._wake: asyncio.Event | None = None
        self._wake_loop: asyncio.AbstractEventLoop | None = None

    def expect_change(self, *, for_s: float = BOOST_FOR_S) -> None:
        """A command was just sent: poll at ``BOOST_INTERVAL_S`` for ``for_s`` seconds."""
        self._boost_until = time.monotonic() + for_s
        wake = self._wake
        if wake is not None and self._wake_loop is not None and not self._wake_loop.is_closed():
            # Safe from any thread or loop: the event belongs to the loop the feed runs on.
            self._wake_loop.call_soon_threadsafe(wake.set)

    def poll_once(self) -> list[Change]:
        """Changes since the previous call (the first call only sets the starting point)."""
        with self._sessions() as session:
            if self._cursor is None:
                self._cursor = queries.latest_change_at(session)
                return []
            since = self._cursor - LOOKBACK
            changes: list[Change] = []
            # Light columns first; full records (with their calls, events, units) only for
            # the incidents and units whose signature changed.
            heads = queries.incident_heads_since(session, since)
            rec_at = queries.recommendations_since(session, since)
            missing = list(rec_at.keys() - heads.keys())
            if missing:
                heads.update(queries.incident_heads(session, missing))
            changed = [
                incident_id
                for incident_id, (revision, at) in heads.items()
                if self._mark(("incident", incident_id), (revision, rec_at.get(incident_id)), at)
            ]
            if changed:
                bodies = [
                    incident.model_dump(mode="json")
                    for incident in queries.incidents_by_id(session, changed)
                ]
                if self._enrich is not None:
                    self._enrich(session, bodies)
                changes.extend(Change("incident", body) for body in bodies)
            changed_units = [
                unit_id
                for unit_id, (revision, at) in queries.unit_heads_since(session, since).items()
                if self._mark(("unit", unit_id), revision, at)
            ]
            if changed_units:
                for unit in queries.units_by_id(session, changed_units):
                    changes.append(Change("unit", unit.model_dump(mode="json")))
            surges = self._read_surges(session, incidents_changed=bool(changed))
            if surges is not None:
                changes.append(Change("surges", {"surges": surges}))
        self._forget_before(self._cursor - LOOKBACK * 2)
        return changes

    def _read_surges(
        self, session: Session, *, incidents_changed: bool
    ) -> list[dict[str, Any]] | None:
        """The active surges when they differ from the last ones sent, else None."""
        if self._surges is None:
            return None
        clock = time.monotonic()
        since = math.inf if self._surges_read_at is None else clock - self._surges_read_at
        due = since >= self._surge_refresh_s
        if not (due or (incidents_changed and since >= self._surge_min_interval_s)):
            return None
        self._surges_read_at = clock
        surges = self._surges(session)
        if surges == self._surges_sent:
            return None
        self._surges_sent = surges
        return surges

    def _mark(self, key: tuple[str, str], signature: Any, at: datetime) -> bool:
        previous = self._seen.get(key)
        self._seen[key] = (signature, at)
        if self._cursor is None or at > self._cursor:
            self._cursor = at
        return previous is None or previous[0] != signature

    def _forget_before(self, horizon: datetime) -> None:
        for key in [k for k, (_sig, at) in self._seen.items() if at < horizon]:
            del self._seen[key]

    def subscribe(self) -> asyncio.Queue[Change]:
        queue: asyncio.Queue[Change] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Change]) -> None:
        self._subscribers.discard(queue)

    def publish(self, changes: list[Change]) -> None:
        for queue in list(self._subscribers):
            for change in changes:
                try:
                    queue.put_nowait(change)
                except asyncio.QueueFull:  # a stalled browser: tell it to reload everything
                    while not queue.empty():
                        queue.get_nowait()
                    queue.put_nowait(RESYNC)
                    break

    async def run(self) -> None:
        """Poll until cancelled; a database error is logged and retried, never fatal."""
        wake = self._wake = asyncio.Event()  # this run's own: bound to this loop
        self._wake_loop = asyncio.get_running_loop()
        while True:
            if self._subscribers or self._cursor is None:
                try:
                    changes = await asyncio.to_thread(self.poll_once)
                except Exception:
                    log.exception("change feed poll failed; retrying")
                    changes = []
                if changes:
                    self.publish(changes)
            boosted = time.monotonic() < self._boost_until
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    wake.wait(), BOOST_INTERVAL_S if boosted else self._interval_s
                )

    async def stream(self) -> AsyncIterator[str]:
        """One browser's event stream: a hello, then changes, with keep-alive comments."""
        queue = self.subscribe()
        try:
            yield "retry: 2000\nevent: hello\ndata: {}\n\n"
            while True:
                try:
                    change = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield change.sse()
        finally:
            self.unsubscribe(queue)


@contextlib.asynccontextmanager
async def running(feed: ChangeFeed) -> AsyncIterator[None]:
    task = asyncio.create_task(feed.run(), name="console-change-feed")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
