"""Fault drills for `goldentime chaos --faults`: kill, restart, lock, and time the recovery.

A drill runs on a started :class:`~ops.up.LocalSystem` while the mixed replay is being
sent. The faults run one after the other, each measured the same way: a *probe* call is posted
to the console's intake (``POST /api/calls``, retried with the same id on 503 or a refused
connection, as a telephony gateway would) right when the fault starts, and the fault's
``recovered_after_s`` is the time until that call is stored in an incident. The kinds:

* ``worker``: SIGKILL a dispatch worker (the supervisor restarts it);
* ``broker``: SIGKILL the embedded broker after pausing the dispatch workers for a moment (so
  accepted records are waiting); it comes back empty, and the intake outbox makes up for it;
* ``database``: the database unavailable for writes for ``db_outage_s`` (SQLite: another
  connection holds an exclusive lock);
* ``console``: SIGKILL the console mid-stream (the supervisor restarts it; its outbox relay
  sends again what was accepted and not processed).

:class:`DurableSender` is the replay's producer: calls and video events are written to the
intake outbox before they are sent (the console's own acceptance rule), the rest (sensor
readings, malformed records) straight to the broker. Probe calls are planted events of their
own (three kilometres apart, at the present time), so the checker expects them like the rest.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from kafka import KafkaProducer
from kafka.errors import KafkaError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from goldentime.errors import GoldenTimeError
from goldentime.outbox import OutboxEntry, insert_entries, outbox_engine
from ops.consistency import BAD_KEY_MARK

if TYPE_CHECKING:
    from ops.chaos_input import Outbound
    from ops.up import LocalSystem

FAULT_KINDS = ("worker", "broker", "database", "console")
RECOVERY_TIMEOUT_S = 120.0
BROKER_BACKLOG_S = 2.0  # workers paused this long before the broker is killed
PROBE_GRID = [(37.47 + 0.03 * i, 126.86 + 0.035 * j) for i in range(6) for j in range(8)]


class DrillError(GoldenTimeError):
    """A fault could not be injected (not a local system, unknown kind, no such server)."""


def parse_faults(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    if unknown:
        raise DrillError(f"--faults: unknown kind(s) {unknown}; known: {', '.join(FAULT_KINDS)}")
    return kinds


@dataclass
class FaultRecord:
    kind: str
    at_s: float
    recovered_after_s: float | None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at_s": round(self.at_s, 2),
            "recovered_after_s": (
                None if self.recovered_after_s is None else round(self.recovered_after_s, 2)
            ),
            **self.detail,
        }


@dataclass
class IntakeAnswers:
    """What the console's intake answered the probes (and whether 503s said when to retry)."""

    accepted: int = 0
    unavailable: int = 0
    unavailable_without_retry_after: int = 0
    refused_connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def as_dict(self) -> dict[str, int]:
        return {
            "202": self.accepted,
            "503": self.unavailable,
            "503_without_retry_after": self.unavailable_without_retry_after,
            "connection_refused": self.refused_connections,
        }


class DurableSender:
    """Sends replay records: calls and video into the intake outbox first, then the broker."""

    def __init__(self, *, bootstrap: str, database_url: str, tick: Callable[[], None]) -> None:
        self._bootstrap = bootstrap
        self._producer = self._new_producer()
        self._engine = outbox_engine(database_url, lock_wait_s=1.0)
        self._tick = tick
        self.accepted = 0
        self.store_refusals = 0
        self.broker_retries = 0
        self.hold_raw = threading.Event()  # keep raw records back while the broker is killed
        self._held: list[Outbound] = []
        self.malformed_sent = 0  # raw records of this run that must become dead letters

    def _new_producer(self) -> KafkaProducer:
        # no idempotence: Tansu refuses InitProducerId, and after a broker restart an
        # idempotent producer stays failed for good (UnknownProducerId, then a fatal error)
        return KafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            linger_ms=5,
            retries=5,
            enable_idempotence=False,
        )

    def _reconnect(self) -> None:
        with contextlib.suppress(KafkaError):
            self._producer.close(timeout=1)
        self._producer = self._new_producer()

    def send(self, records: Sequence[Outbound]) -> None:
        durable = [r for r in records if r.record_id is not None]
        raw = [r for r in records if r.record_id is None]
        if self.hold_raw.is_set():
            self._held.extend(raw)
            raw = []
        elif self._held:
            raw, self._held = self._held + raw, []
        now = datetime.now(UTC)
        entries = [
            OutboxEntry(r.topic, r.record_id, r.key, r.value, now)
            for r in durable
            if r.record_id is not None
        ]
        delay = 0.2
        while entries:  # a database that refuses: wait and retry (as a client does on 503)
            try:
                with self._engine.begin() as connection:
                    insert_entries(connection, entries)
                break
            except SQLAlchemyError:
                self.store_refusals += 1
                self._tick()
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        self.accepted += len(entries)
        for record in durable:  # already accepted: a broker that is away only delays them
            try:
                self._producer.send(record.topic, key=record.key, value=record.value)
            except KafkaError:
                self.broker_retries += 1
        delay = 0.2
        pending = list(raw)
        while pending:  # raw records are only as safe as the broker: retry until it has them
            try:
                futures = [self._producer.send(r.topic, key=r.key, value=r.value) for r in pending]
                for future in futures:
                    future.get(timeout=30)
                self.malformed_sent += sum(BAD_KEY_MARK.encode() in r.key for r in pending)
                pending = []
            except KafkaError:
                self.broker_retries += 1
                self._tick()
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                if delay >= 2.0:
                    self._reconnect()

    def flush(self) -> None:
        if self._held:
            self.hold_raw.clear()
            self.send([])
        try:
            self._producer.flush(timeout=30)
        except KafkaError:
            self.broker_retries += 1

    def close(self) -> None:
        self._producer.close()
        self._engine.dispose()


@dataclass
class Drill:
    """Runs the faults in turn on ``system`` (in a thread of its own) and records them."""

    system: LocalSystem
    kinds: Sequence[str]
    prefix: str
    sender: DurableSender
    db_outage_s: float = 20.0
    # makes the database unavailable for the given seconds now; returns "wait until it is
    # back" (default: an exclusive lock on a SQLite database)
    database_away: Callable[[float], Callable[[], None]] | None = None
    gap_s: float = 3.0
    t0: float = field(default_factory=time.monotonic)
    records: list[FaultRecord] = field(default_factory=list)
    probes: dict[str, str] = field(default_factory=dict)  # probe call id -> planted event
    answers: IntakeAnswers = field(default_factory=IntakeAnswers)
    active: threading.Event = field(default_factory=threading.Event)
    letters_seen: int = 0  # dead letters of this run read so far (kept up by the main loop)
    want_letters: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="fault-drill", daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        try:
            for kind in self.kinds:
                time.sleep(self.gap_s)
                self.active.set()
                try:
                    self.records.append(self._inject(kind))
                finally:
                    self.active.clear()
        except BaseException as err:  # reported by the caller
            self.error = err
        finally:
            self.done.set()

    def _inject(self, kind: str) -> FaultRecord:
        at = time.monotonic()
        detail: dict[str, Any] = {}
        restore: Callable[[], None] | None = None
        if kind == "worker":
            name, pid = self._worker()
            os.kill(pid, signal.SIGKILL)
            detail = {"target": name}
        elif kind == "broker":
            detail = self._kill_broker()
        elif kind == "database":
            restore, detail = self._database_away()
        elif kind == "console":
            os.kill(self.system.supervisor.pids()["console"], signal.SIGKILL)
            detail = {"target": "console"}
        probe = self._probe_id()
        try:
            recovered = self._probe(probe)
        finally:
            if restore is not None:
                restore()
        return FaultRecord(kind, at - self.t0, recovered - at if recovered else None, detail)

    def _worker(self) -> tuple[str, int]:
        pids = self.system.supervisor.pids()
        names = sorted(n for n in pids if n.startswith("dispatch-"))
        if not names:
            raise DrillError("no dispatch worker is running")
        return names[0], pids[names[0]]

    def _workers(self, sig: signal.Signals) -> None:
        for name, pid in self.system.supervisor.pids().items():
            if name.startswith("dispatch-"):
                os.kill(pid, sig)

    def _kill_broker(self) -> dict[str, Any]:
        broker = self.system.broker
        if broker is None:
            raise DrillError("the broker fault needs the embedded broker")
        self.sender.hold_raw.set()  # malformed records would die with it: send them after
        try:
            self._wait_dead_letters()  # what was sent raw is consumed and dead-lettered
            self._workers(signal.SIGSTOP)
            try:
                time.sleep(BROKER_BACKLOG_S)  # accepted records pile up unprocessed
                pending = self._pending()
                broker.kill()
            finally:
                self._workers(signal.SIGCONT)
        finally:
            self.sender.hold_raw.clear()
        return {"target": "embedded broker (memory: restarts empty)", "accepted_pending": pending}

    def _wait_dead_letters(self) -> None:
        time.sleep(0.5)  # a send in progress when the hold began has finished
        self.want_letters.set()
        try:
            deadline = time.monotonic() + RECOVERY_TIMEOUT_S
            while self.letters_seen < self.sender.malformed_sent:
                if time.monotonic() > deadline:
                    raise DrillError(
                        f"{self.sender.malformed_sent - self.letters_seen} malformed record(s) "
                        "not dead-lettered before the broker fault"
                    )
                time.sleep(0.1)
        finally:
            self.want_letters.clear()

    def _pending(self) -> int:
        from goldentime.db import make_engine, session_factory
        from goldentime.outbox import pending_count

        engine = make_engine(self.system.settings.effective_database_url)
        try:
            with session_factory(engine)() as session:
                return pending_count(session)
        finally:
            engine.dispose()

    def _database_away(self) -> tuple[Callable[[], None], dict[str, Any]]:
        url = make_url(self.system.settings.effective_database_url)
        if self.database_away is not None:
            return self.database_away(self.db_outage_s), {
                "target": f"{url.get_backend_name()}: server stopped",
                "outage_s": self.db_outage_s,
            }
        if url.get_backend_name() != "sqlite":
            raise DrillError(
                "the database fault of the local drill holds a SQLite lock; a PostgreSQL "
                "outage needs a way to stop its server (tests/chaos/test_postgres_outage.py "
                "stops and starts its own)"
            )
        return self._sqlite_locked(Path(url.database or "")), {
            "target": "sqlite: exclusive lock",
            "outage_s": self.db_outage_s,
        }

    def _sqlite_locked(self, path: Path) -> Callable[[], None]:
        locker = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        locker.execute("BEGIN EXCLUSIVE")
        release = threading.Timer(self.db_outage_s, lambda: _release(locker))
        release.start()
        return release.join

    def _probe_id(self) -> str:
        n = len(self.probes)
        call_id = f"{self.prefix}-probe-{n:03d}"
        self.probes[call_id] = f"{self.prefix}-probe-event-{n:03d}"
        return call_id

    def _probe(self, call_id: str) -> float | None:
        """Post the probe until it is accepted, then wait until it is in an incident."""
        lat, lon = PROBE_GRID[(len(self.probes) - 1) % len(PROBE_GRID)]
        body = {"id": call_id, "lat": lat, "lon": lon, "type": "ems", "source": "api"}
        url = self.system.url
        deadline = time.monotonic() + RECOVERY_TIMEOUT_S
        accepted = False
        with httpx.Client(base_url=url, timeout=10.0) as client:
            while time.monotonic() < deadline:
                try:
                    if not accepted:
                        answer = client.post("/api/calls", json=body)
                        self._count(answer)
                        accepted = answer.status_code == 202
                        if not accepted:
                            time.sleep(float(answer.headers.get("Retry-After", "1")) / 4)
                            continue
                    if client.get(f"/api/calls/{call_id}").status_code == 200:
                        return time.monotonic()
                except httpx.TransportError:
                    with self.answers.lock:
                        self.answers.refused_connections += 1
                time.sleep(0.2)
        return None

    def _count(self, answer: httpx.Response) -> None:
        with self.answers.lock:
            if answer.status_code == 202:
                self.answers.accepted += 1
            elif answer.status_code == 503:
                self.answers.unavailable += 1
                if "Retry-After" not in answer.headers:
                    self.answers.unavailable_without_retry_after += 1


def _release(locker: sqlite3.Connection) -> None:
    locker.execute("ROLLBACK")
    locker.close()
