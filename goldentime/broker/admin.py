"""Topic administration: wait for a broker, create the declared topics explicitly.

Topics are created explicitly because Tansu auto-creates with 4 partitions, which then clashes
with faust's changelog topics (NOTES.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from goldentime.errors import BrokerError
from goldentime.topics import ALL_TOPICS, TopicSpec

log = logging.getLogger(__name__)


def _admin(bootstrap: str) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="goldentime-admin",
        request_timeout_ms=10_000,
    )


def wait_until_ready(bootstrap: str, *, timeout_s: float = 30.0) -> None:
    """Block until the broker answers a metadata request, or raise BrokerError."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            admin = _admin(bootstrap)
        except (KafkaError, OSError) as err:
            last = err
            time.sleep(0.2)
            continue
        try:
            admin.list_topics()
            return
        except (KafkaError, OSError) as err:
            last = err
            time.sleep(0.2)
        finally:
            admin.close()
    raise BrokerError(f"broker at {bootstrap} not ready after {timeout_s} s: {last}")


def ensure_topics(
    bootstrap: str,
    *,
    partitions: int,
    replication_factor: int,
    topics: Iterable[TopicSpec] = ALL_TOPICS,
) -> list[str]:
    """Create every declared topic that does not exist yet; return the names created."""
    wanted = list(topics)
    try:
        admin = _admin(bootstrap)
    except (KafkaError, OSError) as err:
        raise BrokerError(f"cannot reach broker at {bootstrap}: {err}") from err
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(
                name=spec.name,
                num_partitions=partitions,
                replication_factor=replication_factor,
                topic_configs={"cleanup.policy": "compact"} if spec.compacted else {},
            )
            for spec in wanted
            if spec.name not in existing
        ]
        if missing:
            try:
                admin.create_topics(missing, validate_only=False)
            except TopicAlreadyExistsError:
                log.info("topics created concurrently by another process")
        created = [t.name for t in missing]
        log.info("topics ready (%d created, %d existed)", len(created), len(wanted) - len(created))
        return created
    except KafkaError as err:
        raise BrokerError(f"cannot create topics on {bootstrap}: {err}") from err
    finally:
        admin.close()
