"""The faust application factory: built from settings, one code path for Tansu and Kafka."""

from __future__ import annotations

import faust

from goldentime.broker import faust_compat
from goldentime.settings import Settings


def faust_broker_url(bootstrap: str) -> str:
    """``host1:9092,host2:9092`` -> ``kafka://host1:9092;kafka://host2:9092``."""
    hosts = [h.strip() for h in bootstrap.split(",") if h.strip()]
    return ";".join(f"kafka://{h}" for h in hosts)


def create_app(settings: Settings, *, app_id: str | None = None) -> faust.App:
    """A faust App configured for at-least-once processing on the configured broker."""
    if settings.broker.tansu_compat:
        faust_compat.apply(fetch_max_wait_ms=settings.broker.fetch_max_wait_ms)
    session_timeout = settings.broker.session_timeout_s
    name = app_id or settings.process.app_id
    (settings.data.dir / "faust").mkdir(parents=True, exist_ok=True)  # faust makes only the leaf
    return faust.App(
        name,
        datadir=str(settings.data.dir / "faust" / name),  # not the working directory
        broker=faust_broker_url(settings.broker.bootstrap()),
        autodiscover=False,
        store="memory://",
        topic_partitions=settings.broker.partitions,
        topic_replication_factor=settings.broker.replication_factor,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=session_timeout,
        broker_heartbeat_interval=max(session_timeout / 6, 0.5),
        broker_commit_interval=1.0,
        producer_acks=-1,
        web_enabled=False,
        processing_guarantee="at_least_once",
    )
