"""Read what an InMemoryPublisher took as wire records (decoded by their topic's contract)."""

from __future__ import annotations

from goldentime import topics
from goldentime.broker.publisher import InMemoryPublisher
from goldentime.contracts import Call, DeadLetter, Record, decode
from goldentime.contracts.alerts import AlertDelivery, AlertRequest
from goldentime.contracts.dispatch import Command

CONTRACT_OF: dict[str, type[Record]] = {
    topics.CALLS.name: Call,
    topics.COMMANDS.name: Command,
    topics.ALERT_REQUESTS.name: AlertRequest,
    topics.ALERT_DELIVERIES.name: AlertDelivery,
    topics.DEADLETTER.name: DeadLetter,
}


def sent(publisher: InMemoryPublisher) -> list[tuple[str, Record, str]]:
    """Every record published, in order, as (topic, decoded record, key)."""
    return [
        (r.topic, decode(CONTRACT_OF[r.topic], r.value), r.key.decode()) for r in publisher.records
    ]


def calls(publisher: InMemoryPublisher) -> list[Call]:
    """The calls published on ``calls``, in order."""
    return publisher.decoded(topics.CALLS, Call)
