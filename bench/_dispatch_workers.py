"""Worker processes for the dispatch throughput benchmark (run with multiprocessing 'spawn').

Each child configures itself from ``env`` (the same variables `goldentime up` passes to its
workers), joins a fresh consumer group and reads the pre-loaded ``calls`` topic from the start.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from multiprocessing.queues import Queue
from typing import Any

import faust

from bench._stats import stdout_to_stderr
from dispatch.worker import build
from goldentime import topics
from goldentime.broker.faust_app import create_app
from goldentime.contracts import Call, decode
from goldentime.settings import load_settings
from sensors.registry import load_registry


def _worker(app: faust.App) -> None:
    faust.Worker(
        app, loglevel="WARNING", quiet=True, override_logging=False, redirect_stdouts=False
    ).execute_from_commandline()


def run_intake(env: dict[str, str]) -> None:
    """The real dispatch intake (correlation + store), without the recommender task."""
    stdout_to_stderr()
    os.environ.update(env)
    settings = load_settings()
    structures = load_registry(settings.data.seoul_dir)
    app, _ctx, _calls = build(settings, structures=structures, recommendations=False)
    _worker(app)


def run_decode_baseline(env: dict[str, str], total: int, results: Queue[Any]) -> None:
    """A plain faust agent on the same topic that only decodes each record as a Call."""
    stdout_to_stderr()
    os.environ.update(env)
    settings = load_settings()
    app = create_app(settings)
    calls = app.topic(topics.CALLS.name, key_serializer="raw", value_serializer="raw")

    @app.agent(calls, name="bench.decode")
    async def decode_only(stream: faust.StreamT[Any]) -> AsyncIterator[None]:
        seen = 0
        first_at = 0.0
        async for value in stream:
            decode(Call, value)
            seen += 1
            if seen == 1:
                first_at = time.monotonic()
            if seen == total:
                results.put((seen - 1, time.monotonic() - first_at))
            yield None

    _worker(app)
