"""Run one sensors worker process: ``goldentime sensors worker``."""

from __future__ import annotations

import logging

import faust

from goldentime.broker.faust_app import create_app
from goldentime.metrics import Metrics, serve_faust_metrics
from goldentime.settings import Settings
from sensors.agents import SensorsContext, build_context, register

APP_SUFFIX = "-sensors"


def build(settings: Settings, *, app_id: str | None = None) -> tuple[faust.App, SensorsContext]:
    """The faust app with the sensors agent, in its own consumer group."""
    ctx = build_context(settings)
    app = create_app(settings, app_id=app_id or settings.process.app_id + APP_SUFFIX)
    register(app, ctx)
    return app, ctx


def run_app(app: faust.App, *, loglevel: str = "INFO") -> None:
    """Run ``app`` until SIGTERM/SIGINT; faust handles the signals and shuts down cleanly."""
    faust.Worker(
        app, loglevel=loglevel, override_logging=False, quiet=True, redirect_stdouts=False
    ).execute_from_commandline()


def run(settings: Settings) -> None:
    app, _ctx = build(settings)
    server = serve_faust_metrics(app, settings=settings, metrics=Metrics(process_metrics=True))
    logging.getLogger(__name__).info("sensors worker starting on %s", settings.broker.bootstrap())
    try:
        run_app(app, loglevel=settings.logging.level.upper())
    finally:
        if server is not None:
            server.close()
