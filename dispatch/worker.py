"""Run one dispatch worker process: `goldentime worker dispatch`.

With a metrics port configured (``GOLDENTIME_METRICS_PORT``) the worker serves Prometheus
``/metrics`` and ``/healthz`` there (see ``goldentime.metrics.serve_faust_metrics``).
"""

from __future__ import annotations

import logging

import faust

from dispatch.agents import register
from dispatch.app import create_app
from dispatch.context import DispatchContext, build_context
from goldentime.metrics import Metrics, serve_faust_metrics
from goldentime.settings import Settings


def build(
    settings: Settings, *, metrics: Metrics | None = None
) -> tuple[faust.App, DispatchContext]:
    ctx = build_context(settings)
    app = create_app(settings)
    register(app, ctx, metrics=metrics)
    return app, ctx


def run(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT; faust handles the signals and shuts down cleanly."""
    metrics = Metrics(process_metrics=True)
    app, _ctx = build(settings, metrics=metrics)
    server = serve_faust_metrics(app, settings=settings, metrics=metrics)
    worker = faust.Worker(
        app,
        loglevel=settings.log_level.upper(),
        override_logging=False,
        quiet=True,
        redirect_stdouts=False,
    )
    logging.getLogger(__name__).info("dispatch worker starting on %s", settings.bootstrap())
    try:
        worker.execute_from_commandline()
    finally:
        if server is not None:
            server.close()
