"""Consistency checker: the incidents a replay must give, against what the database holds.

A replay plants its events far enough apart in space and time that the correlation rules give
exactly one incident per planted event (``dispatch.replay``). So the expected record is known
from the input alone: every call and every usable video episode (signal id ``video-{episode}``)
stored once, grouped exactly as planted. :func:`compare` counts what differs:

* ``lost``: input signals with no stored row;
* ``duplicated``: extra incidents for one planted event (an event split over two incidents, or
  opened twice), counted as incidents beyond the first;
* ``merged``: incidents that hold signals of more than one planted event (or of another run);
* dead letters: records on ``deadletter`` whose key marks them as this run's, by reason class.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from sqlalchemy import select
from sqlalchemy.engine import Engine

from goldentime import topics
from goldentime.contracts import DeadLetter, decode
from goldentime.errors import BrokerError, ContractError

#: Keys of deliberately malformed records start with ``{prefix}{BAD_KEY_MARK}``.
BAD_KEY_MARK = ":bad:"
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def bad_key(prefix: str, index: int) -> bytes:
    """The key of the ``index``-th malformed record of the run ``prefix``."""
    return f"{prefix}{BAD_KEY_MARK}{index}".encode()


@dataclass(frozen=True, slots=True)
class Expected:
    """What a replay must leave behind: signal id -> planted event id, and the bad records."""

    prefix: str
    event_of: Mapping[str, str]
    malformed: int

    def groups(self) -> set[frozenset[str]]:
        by_event: dict[str, set[str]] = {}
        for signal_id, event_id in self.event_of.items():
            by_event.setdefault(event_id, set()).add(signal_id)
        return {frozenset(ids) for ids in by_event.values()}


@dataclass
class Report:
    """The comparison of one run; ``ok`` when nothing was lost, doubled or merged."""

    expected_signals: int
    stored_signals: int
    expected_incidents: int
    stored_incidents: int
    lost: int
    duplicated: int
    merged: int
    dead_letters: int
    expected_dead_letters: int
    dead_letter_reasons: dict[str, int] = field(default_factory=dict)
    lost_examples: list[str] = field(default_factory=list)
    duplicated_examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.merged == 0
            and self.dead_letters == self.expected_dead_letters
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "expected_signals": self.expected_signals,
            "stored_signals": self.stored_signals,
            "expected_incidents": self.expected_incidents,
            "stored_incidents": self.stored_incidents,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "merged": self.merged,
            "dead_letters": self.dead_letters,
            "expected_dead_letters": self.expected_dead_letters,
            "dead_letter_reasons": self.dead_letter_reasons,
            "lost_examples": self.lost_examples,
            "duplicated_examples": self.duplicated_examples,
            "consistent": self.ok,
        }


def stored_links(engine: Engine, prefix: str) -> dict[str, str]:
    """Signal id -> incident id for the calls and video signals of the run ``prefix``."""
    from dispatch.incident_store import CallRow, SignalRow

    with engine.connect() as conn:
        links = dict(
            conn.execute(
                select(CallRow.id, CallRow.incident_id).where(CallRow.id.like(f"{prefix}-%"))
            )
            .tuples()
            .all()
        )
        links |= dict(
            conn.execute(
                select(SignalRow.id, SignalRow.incident_id).where(
                    SignalRow.id.like(f"video-{prefix}-%")
                )
            )
            .tuples()
            .all()
        )
    return links


def incident_members(engine: Engine, incident_ids: Iterable[str]) -> dict[str, set[str]]:
    """Every signal (of any run) of the given incidents: incident id -> signal ids."""
    from dispatch.incident_store import CallRow, SignalRow

    ids = sorted(set(incident_ids))
    members: dict[str, set[str]] = {i: set() for i in ids}
    with engine.connect() as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for table in (CallRow, SignalRow):
                rows = conn.execute(
                    select(table.id, table.incident_id).where(table.incident_id.in_(chunk))
                )
                for signal_id, incident_id in rows:
                    members[incident_id].add(signal_id)
    return members


def compare(
    expected: Expected,
    links: Mapping[str, str],
    members: Mapping[str, set[str]],
    letters: Iterable[DeadLetter],
) -> Report:
    """Compare the stored ``links`` (and the members of their incidents) with ``expected``."""
    lost = sorted(set(expected.event_of) - set(links))
    incidents_of_event: dict[str, set[str]] = {}
    for signal_id, incident_id in links.items():
        event_id = expected.event_of.get(signal_id)
        if event_id is not None:
            incidents_of_event.setdefault(event_id, set()).add(incident_id)
    split = {e: ids for e, ids in incidents_of_event.items() if len(ids) > 1}
    duplicated = sum(len(ids) - 1 for ids in split.values())
    merged = 0
    for signal_ids in members.values():
        events = {expected.event_of.get(s, f"foreign:{s}") for s in signal_ids}
        merged += len(events) > 1
    reasons: Counter[str] = Counter()
    unique = {letter.id: letter for letter in letters}
    for letter in unique.values():
        reasons[f"{letter.source_topic}: {reason_class(letter.reason)}"] += 1
    return Report(
        expected_signals=len(expected.event_of),
        stored_signals=len(links),
        expected_incidents=len(expected.groups()),
        stored_incidents=len(set(links.values())),
        lost=len(lost),
        duplicated=duplicated,
        merged=merged,
        dead_letters=len(unique),
        expected_dead_letters=expected.malformed,
        dead_letter_reasons=dict(sorted(reasons.items())),
        lost_examples=lost[:5],
        duplicated_examples=sorted(split)[:5],
    )


def reason_class(reason: str) -> str:
    """A short class of a dead-letter reason (its first words), for counting."""
    head = _QUOTED.sub("…", reason.split(":", 1)[0]).strip()
    return head if len(head) <= 40 else head[:40]


class DeadLetterReader:
    """Reads this run's dead letters from ``deadletter`` (no consumer group; from a start mark)."""

    def __init__(self, bootstrap: str, *, prefix: str) -> None:
        self._prefix = f"{prefix}{BAD_KEY_MARK}"
        self._bootstrap = bootstrap
        try:
            self._consumer = KafkaConsumer(
                bootstrap_servers=bootstrap,
                enable_auto_commit=False,
                client_id="goldentime-chaos-check",
            )
            partitions = self._consumer.partitions_for_topic(topics.DEADLETTER.name) or set()
            self._parts = [TopicPartition(topics.DEADLETTER.name, p) for p in sorted(partitions)]
            self._consumer.assign(self._parts)
            # a start mark before the run: only later letters are read (filtered by key anyway)
            ends = self._consumer.end_offsets(self._parts)
            for part in self._parts:
                self._consumer.seek(part, max(int(ends.get(part, 0)) - 1, 0))
        except KafkaError as err:
            raise BrokerError(
                f"cannot read {topics.DEADLETTER.name} at {bootstrap}: {err}"
            ) from err
        self.letters: dict[str, DeadLetter] = {}

    def poll(self, *, timeout_s: float = 0.5) -> int:
        """Read what has arrived; return how many distinct letters of this run are known."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                batches = self._consumer.poll(timeout_ms=100, max_records=5000)
            except KafkaError as err:
                raise BrokerError(f"reading {topics.DEADLETTER.name}: {err}") from err
            for records in batches.values():
                for record in records:
                    self._take(record.value)
            if not batches and time.monotonic() >= deadline:
                return len(self.letters)

    def _take(self, value: bytes | None) -> None:
        if value is None:
            return
        try:
            letter = decode(DeadLetter, value)
        except ContractError:
            return
        if letter.key is not None and letter.key.startswith(self._prefix):
            self.letters[letter.id] = letter

    def restart(self) -> None:
        """After an embedded broker restart: read the new (empty at first) dead-letter topic
        from its beginning; the letters read so far are kept."""
        self._consumer.close()
        self._consumer = KafkaConsumer(
            bootstrap_servers=self._bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="goldentime-chaos-check",
        )
        self._consumer.assign(self._parts)
        self._consumer.seek_to_beginning(*self._parts)

    def close(self) -> None:
        self._consumer.close()
