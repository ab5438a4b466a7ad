"""Run one dispatch worker process: `goldentime worker dispatch`."""

from __future__ import annotations

import logging

import faust

from dispatch.agents import register
from dispatch.app import create_app
from dispatch.context import DispatchContext, build_context
from goldentime.settings import Settings


def build(settings: Settings) -> tuple[faust.App, DispatchContext]:
    ctx = build_context(settings)
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
