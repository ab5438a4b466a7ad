"""Run one dispatch worker process: `goldentime worker dispatch`."""

from __future__ import annotations

import logging
import os
import socket
from concurrent.futures import ThreadPoolExecutor

import faust

from dispatch.agents import DispatchContext, register
from dispatch.app import create_app
from goldentime.clock import SystemClock
from goldentime.db import create_schema, engine_for, session_factory
from goldentime.settings import Settings


def build(settings: Settings) -> tuple[faust.App, DispatchContext]:
    engine = engine_for(settings)
    create_schema(engine)
    ctx = DispatchContext(
        sessions=session_factory(engine),
        clock=SystemClock(),
        consumer_name=f"dispatch@{socket.gethostname()}:{os.getpid()}",
        executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="store"),
    )
    app = create_app(settings)
    register(app, ctx)
    return app, ctx


def run(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT; faust handles the signals and shuts down cleanly."""
    app, _ctx = build(settings)
    worker = faust.Worker(
        app,
        loglevel=settings.log_level.upper(),
        override_logging=False,
        quiet=True,
        redirect_stdouts=False,
    )
    logging.getLogger(__name__).info("dispatch worker starting on %s", settings.bootstrap())
    worker.execute_from_commandline()
