"""Chaos run: replay mixed events into a system while dispatch workers are SIGKILLed.

The input comes from :func:`ops.chaos_input.generate_mixed`. :func:`run_chaos` sends it
at a steady rate (calls and video through the intake outbox on a local system), kills a random
dispatch worker every ``kill_every_s`` (only on a :class:`~ops.up.LocalSystem`: a remote
deployment's workers are not ours to kill), drills the ``faults`` in turn
(``ops.fault_drill``), lets the supervisor restart what died, waits until everything is
stored and every accepted record processed, and checks the database against the input with
:mod:`ops.consistency`.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from goldentime.errors import BrokerError
from ops.chaos_input import ChaosError, MixedInput, Outbound, generate_mixed, malformed_value
from ops.consistency import (
    DeadLetterReader,
    Expected,
    Report,
    compare,
    incident_members,
    stored_links,
)

if TYPE_CHECKING:
    from goldentime.settings import Settings
    from ops.up import LocalSystem


Echo = Callable[[str], None]
__all__ = [
    "ChaosError",
    "ChaosOptions",
    "ChaosResult",
    "MixedInput",
    "Outbound",
    "Target",
    "generate_mixed",
    "malformed_value",
    "run_chaos",
    "start_local_system",
]


@dataclass
class Target:
    """Where to replay: the local system (kills possible) or an operator's deployment."""

    bootstrap: str
    database_url: str
    local: LocalSystem | None = None  # started; its dispatch workers may be killed

    def worker_names(self) -> list[str]:
        if self.local is None:
            return []
        return sorted(n for n in self.local.supervisor.pids() if n.startswith("dispatch-"))

    def tick(self) -> None:
        if self.local is not None:
            self.local.tick()


@dataclass
class ChaosOptions:
    events: int = 5000
    kill_every_s: float | None = 3.0
    rate: float = 250.0
    faults: tuple[str, ...] = ()  # ops.fault_drill.FAULT_KINDS, in turn
    db_outage_s: float = 20.0
    # the database fault's injector (ops.fault_drill.Drill.database_away; default: a
    # SQLite lock)
    database_away: Callable[[float], Callable[[], None]] | None = None
    seed: int = 119
    prefix: str = "chaos"
    start: datetime = datetime(2025, 3, 1, tzinfo=UTC)
    timeout_s: float = 300.0


@dataclass
class ChaosResult:
    options: ChaosOptions
    counts: dict[str, int]
    report: Report
    kills: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    workers: list[dict[str, Any]] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    accepted: int = 0
    intake: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "incidents": self.report.stored_incidents,
            "faults": self.faults,
            "intake": self.intake,
            "events": sum(self.counts[k] for k in ("calls", "video_records", "sensor_readings"))
            + self.counts["malformed"],
            "kills": len(self.kills),
            "lost": self.report.lost,
            "duplicated": self.report.duplicated,
            "dead_letters": self.report.dead_letters,
            "merged": self.report.merged,
            "malformed": self.counts["malformed"],
            "consistent": self.report.ok,
            "inputs": self.counts,
            "check": self.report.as_dict(),
            "kill_log": self.kills,
            "workers": self.workers,
            "durations_s": {k: round(v, 2) for k, v in self.durations.items()},
            "seed": self.options.seed,
            "prefix": self.options.prefix,
            "notes": self.notes,
        }


class _Killer:
    """SIGKILLs a random live dispatch worker of the local system every ``every_s`` seconds."""

    def __init__(self, target: Target, every_s: float | None, rng: random.Random) -> None:
        self._target, self._every, self._rng = target, every_s, rng
        self._next = time.monotonic() + (every_s or 0.0)
        self.log: list[dict[str, Any]] = []
        self._t0 = time.monotonic()

    def maybe_kill(self, *, paused: bool = False) -> None:
        """Kill when due (``paused``: another fault is being drilled; wait for it)."""
        if self._target.local is None or not self._every or time.monotonic() < self._next:
            return
        if paused:
            return
        self._next = time.monotonic() + self._every
        pids = self._target.local.supervisor.pids()
        names = self._target.worker_names()
        if not names:
            return
        name = self._rng.choice(names)
        try:
            os.kill(pids[name], signal.SIGKILL)
        except ProcessLookupError:
            return
        self.log.append(
            {"worker": name, "pid": pids[name], "at_s": round(time.monotonic() - self._t0, 2)}
        )


def _send(producer: KafkaProducer, records: list[Outbound]) -> None:
    try:
        for record in records:
            producer.send(record.topic, key=record.key, value=record.value)
        producer.flush(timeout=30)
    except KafkaError as err:
        raise BrokerError(f"the broker did not take the chaos records: {err}") from err


def run_chaos(target: Target, options: ChaosOptions, *, seoul_data_dir: Path,
              echo: Echo = lambda _line: None) -> ChaosResult:  # fmt: skip
    """Replay, kill, drill the faults, wait for the record to settle, then check it; see the
    module docstring and ``ops.fault_drill``."""
    from goldentime.db import make_engine
    from ops.fault_drill import Drill, DrillError, DurableSender

    t0 = time.monotonic()
    mixed = generate_mixed(options.events, seed=options.seed, prefix=options.prefix,
                           start=options.start, seoul_data_dir=seoul_data_dir)  # fmt: skip
    result = ChaosResult(options, mixed.counts, Report(0, 0, 0, 0, 0, 0, 0, 0, 0))
    if target.local is None and (options.kill_every_s or options.faults):
        result.notes.append("remote deployment: its processes are not ours; faults skipped")
    result.durations["generate"] = time.monotonic() - t0
    engine = make_engine(target.database_url)
    reader = DeadLetterReader(target.bootstrap, prefix=options.prefix)
    killer = _Killer(target, options.kill_every_s, random.Random(options.seed))
    producer = KafkaProducer(bootstrap_servers=target.bootstrap, acks="all", linger_ms=5)
    sender = (
        DurableSender(
            bootstrap=target.bootstrap, database_url=target.database_url, tick=target.tick
        )
        if target.local is not None
        else None
    )
    drill = (
        Drill(
            target.local,
            options.faults,
            options.prefix,
            sender,
            db_outage_s=options.db_outage_s,
            database_away=options.database_away,
        )
        if target.local is not None and sender is not None and options.faults
        else None
    )
    broker_faults_seen = 0

    def supervise(*, kill: bool = False) -> None:
        """Restart what died; ``kill``: while sending, kill a worker when one is due."""
        nonlocal broker_faults_seen
        if kill:
            killer.maybe_kill(paused=drill is not None and drill.active.is_set())
        target.tick()
        if drill is not None and drill.want_letters.is_set():
            drill.letters_seen = reader.poll(timeout_s=0.1)
        if drill is not None:  # the broker came back empty: read the new dead-letter topic
            restarts = sum(r.kind == "broker" for r in drill.records)
            if restarts > broker_faults_seen:
                broker_faults_seen = restarts
                reader.restart()

    try:
        t1 = time.monotonic()
        if drill is not None:
            drill.start()
        _send_paced(
            mixed.records,
            started=t1,
            rate=options.rate,
            send=sender.send if sender is not None else partial(_send, producer),
            supervise=partial(supervise, kill=True),
        )
        if sender is not None:
            sender.flush()
        result.durations["send"] = time.monotonic() - t1
        echo(f"sent {len(mixed.records)} records; {len(killer.log)} kill(s) so far")
        while drill is not None and not drill.done.is_set():
            supervise()
            time.sleep(0.05)
        if drill is not None and drill.error is not None:
            raise DrillError(f"fault drill failed: {drill.error}") from drill.error
        expected = mixed.expected
        if drill is not None:
            expected = Expected(
                expected.prefix, {**expected.event_of, **drill.probes}, expected.malformed
            )
        t2 = time.monotonic()
        deadline = t2 + options.timeout_s
        pending = 0
        while time.monotonic() < deadline:
            supervise()
            stored = len(stored_links(engine, options.prefix))
            letters = reader.poll(timeout_s=0.3)
            # every accepted record processed: the consumers settled its outbox row
            pending = _outbox_pending(engine) if sender is not None else 0
            if stored >= len(expected.event_of) and letters >= expected.malformed and not pending:
                break
        result.durations["settle"] = time.monotonic() - t2
        reader.poll(timeout_s=1.0)  # late duplicates of a dead letter are deduplicated anyway
        links = stored_links(engine, options.prefix)
        members = incident_members(engine, set(links.values()))
        result.report = compare(expected, links, members, reader.letters.values())
        result.kills = killer.log
        result.workers = _worker_info(target, engine)
        _record_intake(result, sender, drill, pending=pending)
    finally:
        producer.close()
        reader.close()
        if sender is not None:
            sender.close()
        engine.dispose()
    result.durations["total"] = time.monotonic() - t0
    return result


def _send_paced(
    records: list[Outbound],
    *,
    started: float,
    rate: float,
    send: Callable[[list[Outbound]], Any],
    supervise: Callable[[], None],
) -> None:
    """Send ``records`` in chunks at ``rate`` per second from ``started`` (monotonic),
    supervising while waiting."""
    t1 = started
    chunk = max(1, int(rate / 10))
    for start in range(0, len(records), chunk):
        send(records[start : start + chunk])
        due = t1 + (start + chunk) / rate
        while time.monotonic() < due:
            supervise()
            time.sleep(0.02)


def _record_intake(result: ChaosResult, sender: Any, drill: Any, *, pending: int) -> None:
    """What the durable intake and the fault drill accepted and saw, into ``result``."""
    if sender is not None:
        result.accepted = sender.accepted
        result.intake = {"outbox_refusals": sender.store_refusals,
                         "broker_retries": sender.broker_retries,
                         "outbox_pending_at_end": pending}  # fmt: skip
    if drill is not None:
        result.faults = [r.as_dict() for r in drill.records]
        result.accepted += drill.answers.accepted
        result.intake["probe_answers"] = drill.answers.as_dict()


def _outbox_pending(engine: Any) -> int:
    from goldentime.db import session_factory
    from goldentime.outbox import pending_count

    with session_factory(engine)() as session:
        return pending_count(session)


def _worker_info(target: Target, engine: Any) -> list[dict[str, Any]]:
    from dispatch.incident_store import live_workers
    from goldentime.db import session_factory

    with session_factory(engine)() as session:
        rows = live_workers(session, now=datetime.now(UTC), max_age_s=10.0)
        live = {r.name: r.partitions for r in rows}
    if target.local is None:
        return [{"name": name, "partitions": held} for name, held in live.items()]
    sup = target.local.supervisor
    pids = sup.pids()
    out: list[dict[str, Any]] = []
    for name in (f"dispatch-{i + 1}" for i in range(target.local.workers)):
        pid = pids.get(name)
        held = next((n for worker, n in live.items() if worker.endswith(f":{pid}")), None)
        out.append({"name": name, "pid": pid, "restarts": sup.restarts(name), "partitions": held})
    return out


def start_local_system(settings: Settings, *, workers: int, sensors: bool = True) -> LocalSystem:
    """A started LocalSystem with quick rejoins after a kill, plus the sensors worker."""
    from ops.supervisor import ChildSpec, python_argv
    from ops.up import LocalSystem as System

    system = System(settings, workers=workers, echo=lambda _line: None)
    system.env["GOLDENTIME_KAFKA_SESSION_TIMEOUT_S"] = "2"  # a killed worker's partitions move fast
    system.start()
    if sensors:
        try:
            system.supervisor.add(ChildSpec("sensors", python_argv("sensors", "worker")))
            system.supervisor.start("sensors")
        except BaseException:
            system.stop()
            raise
    return system
