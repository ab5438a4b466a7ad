"""Run one dispatch worker process: `goldentime worker dispatch`.

With a metrics port configured (``GOLDENTIME_METRICS_PORT``) the worker serves Prometheus
``/metrics`` and ``/healthz`` there (see ``goldentime.metrics.serve_faust_metrics``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import faust

from dispatch.agents import DispatchConsumers, register
from dispatch.context import DispatchContext, build_context
from dispatch.structure_alarms import MonitoredStructure, directory_of
from goldentime.broker.faust_app import create_app
from goldentime.metrics import Metrics, serve_faust_metrics
from goldentime.procutil import freeze_startup_heap
from goldentime.settings import Settings


def build(
    settings: Settings,
    *,
    structures: Iterable[MonitoredStructure],
    metrics: Metrics | None = None,
    recommendations: bool = True,
) -> tuple[faust.App, DispatchContext, DispatchConsumers]:
    """The worker's app, context and topic consumers (``recommendations``: see ``register``).

    ``structures``: the structure registry (the bridges and tunnels whose alarms close roads),
    matched to the worker's road network here.
    """
    ctx = build_context(settings)
    app = create_app(settings)
    consumers = register(
        app,
        ctx,
        structures=directory_of(structures, network=ctx.network),
        metrics=metrics,
        recommendations=recommendations,
    )
    freeze_startup_heap()
    return app, ctx, consumers


def run(settings: Settings, *, structures: Iterable[MonitoredStructure]) -> None:
    """Run until SIGTERM/SIGINT; faust handles the signals and shuts down cleanly."""
    metrics = Metrics(process_metrics=True)
    app, _ctx, consumers = build(settings, structures=structures, metrics=metrics)
    server = serve_faust_metrics(
        app,
        settings=settings,
        metrics=metrics,
        other_consumers=[c.offsets for c in consumers.all()],
    )
    worker = faust.Worker(
        app,
        loglevel=settings.logging.level.upper(),
        override_logging=False,
        quiet=True,
        redirect_stdouts=False,
    )
    logging.getLogger(__name__).info("dispatch worker starting on %s", settings.broker.bootstrap())
    try:
        worker.execute_from_commandline()
    finally:
        if server is not None:
            server.close()
