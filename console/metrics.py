"""Prometheus metrics of the console: HTTP requests by route and status, intake calls.

``GET /metrics`` serves :class:`goldentime.metrics.Metrics`' registry (process metrics, alert
deliveries) plus two console counters. The label is the route *template*
(``/api/incidents/{incident_id}``), never the raw path, so the series stay bounded; requests
that match no route count as ``<unmatched>``.

Who may read it: the ``admin`` role only (a browser session or, for Prometheus, an API token
of an admin account sent as ``Authorization: Bearer``). Not "any loopback client": behind
the reverse proxy every request comes from loopback, which would make the figures public.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter
from starlette.routing import Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alerts.service import DeliverySummary
from console.guard import matched_template
from goldentime.metrics import NAMESPACE, AlertOutcome, Metrics

UNMATCHED = "<unmatched>"
INTAKE_PATH = "/api/calls"


class ConsoleMetrics:
    """The console's figures on one :class:`Metrics` registry."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics or Metrics(process_metrics=True)
        self.http_requests = Counter(
            "console_http_requests",
            "Console HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            namespace=NAMESPACE,
            registry=self.metrics.registry,
        )
        self.intake_calls = Counter(
            "console_intake_calls",
            "119 calls posted to the intake API, by answer (accepted, refused, unavailable).",
            ["outcome"],
            namespace=NAMESPACE,
            registry=self.metrics.registry,
        )

    def record(self, *, method: str, route: str, status: int) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        if method == "POST" and route == INTAKE_PATH:
            if status == 202:
                outcome = "accepted"
            elif status in (503, 504):
                outcome = "unavailable"
            else:
                outcome = "refused"
            self.intake_calls.labels(outcome).inc()

    def exposition(self) -> bytes:
        return self.metrics.exposition()


def route_template(router: Router, scope: Scope) -> str:
    """The template of the route that handled (or would handle) this request."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    return matched_template(router, scope) or UNMATCHED


class RequestCounter:
    """ASGI middleware (outermost): counts every HTTP request once it has been answered."""

    def __init__(self, app: ASGIApp, *, router: Router, metrics: ConsoleMetrics) -> None:
        self.app = app
        self.router = router
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            method = str(scope.get("method", "GET"))
            self.metrics.record(
                method=method, route=route_template(self.router, scope), status=status
            )


def add_metrics(app: FastAPI, metrics: ConsoleMetrics) -> None:
    """``GET /metrics`` (admin only, see :mod:`console.roles`) and the request counter."""

    @app.get("/metrics", tags=["system"], response_class=Response)
    def prometheus() -> Response:
        """Prometheus text format: console requests, intake calls, process figures."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(RequestCounter, router=app.router, metrics=metrics)


def alert_delivery_recorder(metrics: Metrics) -> Callable[[DeliverySummary], None]:
    """Count what one alert fan-out did into ``goldentime_alerts_sent_total``."""

    def record(summary: DeliverySummary) -> None:
        if summary.sms is not None:
            metrics.record_alert(
                channel="sms",
                outcome=AlertOutcome.SENT,
                count=summary.sms.sent + summary.sms.reconciled,
            )
            metrics.record_alert(
                channel="sms", outcome=AlertOutcome.FAILED, count=summary.sms.failed
            )
        for channel, posts in summary.social_posts.items():
            metrics.record_alert(channel=channel, outcome=AlertOutcome.SENT, count=len(posts))

    return record
