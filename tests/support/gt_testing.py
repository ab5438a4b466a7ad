"""Helpers for integration tests and benchmarks (on pytest's pythonpath)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition


def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[Any]], bool],
    timeout_s: float = 10.0,
) -> list[Any]:
    """Read ``topic`` from the beginning (no consumer group) until ``until(records)`` holds."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        fetch_max_wait_ms=100,
        consumer_timeout_ms=200,
    )
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
            if until(records):
                return records
        return records
    finally:
        consumer.close()


def wait_until(predicate: Callable[[], Any], *, timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


def run_coroutine(factory: Callable[[], Any]) -> Any:
    """Run ``factory()``'s coroutine to completion on a fresh loop in its own thread.

    Browser tests keep Playwright's event loop running in the main thread for the whole
    session, so ``asyncio.run`` there would fail; a thread has no running loop.
    """
    import asyncio
    import threading

    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(factory())
        except BaseException as err:  # re-raised in the caller's thread
            result["error"] = err

    thread = threading.Thread(target=target, name="run-coroutine")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


def screenshot_dir(default: Path) -> Path:
    """Where browser tests save screenshots: ``docs/img`` only when asked.

    ``GOLDENTIME_UPDATE_SCREENSHOTS=1 pytest -m browser`` refreshes the README's pictures; an
    ordinary run writes them to ``default`` (a temporary directory) and leaves the checkout alone.
    """
    import os

    if os.environ.get("GOLDENTIME_UPDATE_SCREENSHOTS") == "1":
        return Path(__file__).resolve().parents[2] / "docs" / "img"
    default.mkdir(parents=True, exist_ok=True)
    return default
