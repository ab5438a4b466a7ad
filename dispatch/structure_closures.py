"""Structure closures in this worker's road network, kept in step with the database.

The database (``structure_closures``) is the system of record: the worker that decides a
closure writes it there *before* publishing it on ``routing.closures``. Every dispatch worker
applies the records of that topic to its own network as they arrive (a broadcast consumer:
each worker reads every partition, see :func:`follow_closures`), re-applies the active rows at
start, and reconciles with the database periodically, so a missed record or a restart cannot
leave a worker routing over a closed bridge. Applying is idempotent by closure id.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.incident_store import StructureClosureRow
from goldentime import topics
from goldentime.contracts import decode
from goldentime.contracts.routing import ClosureAction, Edge, RoadClosure
from goldentime.errors import ContractError
from routing import RoadNetwork, RoutingError

log = logging.getLogger(__name__)


def closure_id_for(alarm_id: str) -> str:
    """The closure id of the critical episode opened by ``alarm_id`` (stable under replay)."""
    return "cl-" + hashlib.sha256(alarm_id.encode()).hexdigest()[:16]


class ClosureBook:
    """Which structure closures are applied to one road network (closure id -> routing id).

    Not thread-safe: call it only from the worker's store thread, where routing runs too.
    """

    def __init__(self, network: RoadNetwork) -> None:
        self.network = network
        self._applied: dict[str, tuple[str, tuple[Edge, ...]]] = {}

    def __contains__(self, closure_id: object) -> bool:
        return closure_id in self._applied

    @property
    def active(self) -> set[str]:
        return set(self._applied)

    def usable_edges(self, edges: Iterable[Sequence[int]]) -> list[Edge]:
        """The edges that are in this network (the graph keeps its largest component only)."""
        graph = self.network.graph
        out: list[Edge] = []
        for edge in edges:
            u, v, key = (int(x) for x in edge)
            if graph.has_edge(u, v, key):
                out.append((u, v, key))
        return out

    def close(self, closure_id: str, edges: Iterable[Sequence[int]], *, reason: str) -> bool:
        """Close ``edges`` under ``closure_id``; False when already closed or nothing to close."""
        if closure_id in self._applied:
            return False
        usable = self.usable_edges(edges)
        if not usable:
            return False
        routing_id = self.network.close_edges(usable, reason=reason)
        self._applied[closure_id] = (routing_id, tuple(usable))
        return True

    def reopen(self, closure_id: str) -> bool:
        """Reopen ``closure_id``; False when it is not applied here."""
        applied = self._applied.pop(closure_id, None)
        if applied is None:
            return False
        try:
            self.network.reopen(applied[0])
        except RoutingError:  # pragma: no cover - only this book opens these closures
            log.exception("routing lost closure %s", closure_id)
        return True

    def apply(self, record: RoadClosure) -> bool:
        """Apply one ``routing.closures`` record; True when the network changed."""
        if record.action is ClosureAction.CLOSE:
            return self.close(record.id, record.edges, reason=record.reason)
        return self.reopen(record.id)

    def edges_of(self, closure_id: str) -> tuple[Edge, ...]:
        return self._applied[closure_id][1] if closure_id in self._applied else ()

    @contextmanager
    def lifted(self, closure_id: str) -> Iterator[None]:
        """Temporarily reopen ``closure_id`` (to plan as if it were open), then close it again."""
        applied = self._applied.get(closure_id)
        if applied is None:
            yield
            return
        self.network.reopen(applied[0])
        try:
            yield
        finally:
            self._applied[closure_id] = (
                self.network.close_edges(applied[1], reason="re-applied"),
                applied[1],
            )

    def sync(self, rows: Iterable[StructureClosureRow]) -> tuple[int, int]:
        """Make the applied set equal the active database rows; (closed, reopened) counts."""
        wanted = {row.id: row for row in rows if row.reopened_at is None and row.edges}
        reopened = sum(self.reopen(cid) for cid in self.active - set(wanted))
        closed = sum(
            self.close(cid, row.edges, reason=row.reason)
            for cid, row in wanted.items()
            if cid not in self._applied
        )
        return closed, reopened


def active_closures(session: Session) -> list[StructureClosureRow]:
    """Closures not reopened yet, oldest first."""
    return list(
        session.scalars(
            select(StructureClosureRow)
            .where(StructureClosureRow.reopened_at.is_(None))
            .order_by(StructureClosureRow.closed_at, StructureClosureRow.id)
        )
    )


def closure_record(row: StructureClosureRow, *, action: ClosureAction) -> RoadClosure | None:
    """The ``routing.closures`` record of a stored closure (None: no graph edges)."""
    if not row.edges:
        return None
    reopening = action is ClosureAction.REOPEN and row.reopened_at is not None
    return RoadClosure(
        id=row.id,
        structure_id=row.structure_id,
        structure_name=row.structure_name,
        edges=[(int(u), int(v), int(k)) for u, v, k in row.edges],
        reason=(row.reopen_reason or row.reason) if reopening else row.reason,
        action=action,
        at=row.reopened_at if reopening and row.reopened_at is not None else row.closed_at,
        incident_id=row.incident_id,
    )


async def follow_closures(
    bootstrap: list[str],
    apply: Callable[[RoadClosure], Awaitable[None]],
    *,
    client_id: str,
    fetch_max_wait_ms: int = 100,
) -> None:
    """Read every partition of ``routing.closures`` from the start and ``apply`` each record.

    No consumer group: every worker must see every closure (an agent in the workers' shared
    group would get only its share of the partitions). Undecodable records are logged and
    skipped here; the producer validated them and the database holds the truth anyway.
    Restarts itself on broker errors.
    """
    delay = 0.5
    while True:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=fetch_max_wait_ms,
        )
        try:
            await consumer.start()
            await consumer.topics()  # fetch metadata
            partitions = consumer.partitions_for_topic(topics.CLOSURES.name) or set()
            if not partitions:
                raise KafkaError(f"topic {topics.CLOSURES.name} has no partitions yet")
            consumer.assign([TopicPartition(topics.CLOSURES.name, p) for p in sorted(partitions)])
            await consumer.seek_to_beginning()
            delay = 0.5
            async for message in consumer:
                try:
                    record = decode(RoadClosure, message.value or b"")
                except ContractError as err:
                    log.warning("skipped a bad routing.closures record: %s", err.reason)
                    continue
                await apply(record)
        except asyncio.CancelledError:
            raise
        except KafkaError as err:
            log.warning("closure follower: %s; reconnecting in %.1fs", err, delay)
        finally:
            await consumer.stop()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10.0)
