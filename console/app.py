"""The console web application: intake API, incident API, dispatcher board.

Build it with :func:`create_app`; the broker publisher and the database engine are injected,
so tests can run it against a real broker and database or a fake publisher.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, status
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from alerts.public_page import STYLE as PUBLIC_PAGE_STYLE
from alerts.runtime import AlertsConfig, alerts_config, build_service, publisher_sink
from alerts.service import AlertService
from console.alerts_mount import mount_alerts
from console.auth import (
    SECRET_FILE_NAME,
    AuthConfig,
    LoginRateLimiter,
    SessionSigner,
    auth_config,
    load_or_create_secret,
)
from console.basemap import Basemap, add_basemap_routes
from console.caller_media_routes import (
    MediaConfig,
    SmsSender,
    add_caller_media_routes,
    parse_ice_servers,
)
from console.caller_media_sms import sms_sender
from console.commands import add_command_routes, command_sender
from console.coverage import CoverageService, add_coverage_route
from console.exchange_mount import mount_exchange
from console.guard import AccessGuard
from console.intake import DrainGuard, DurableIntake
from console.live import ChangeFeed, running
from console.mci_routes import add_mci_routes, surge_reader, with_mci_levels
from console.metrics import ConsoleMetrics, add_metrics, alert_delivery_recorder
from console.openapi_doc import document_errors
from console.pages import DEMO_BANNER, add_page_routes
from console.places_api import IncidentPlaces, add_places_route
from console.scene_routes import SceneMap, add_scene_route
from console.security import SecurityHeaders, style_hash
from console.sensors_mount import mount_sensor_ingest
from dispatch import cell_of, queries
from goldentime import __version__, topics
from goldentime.broker.clients import kafka_publisher
from goldentime.broker.publisher import BlockingPublisher, Publisher, publish_record
from goldentime.clock import Clock, SystemClock
from goldentime.contracts import (
    Call,
    CallSource,
    IncidentStatus,
    IncidentType,
    sender_clock_skew_s,
)
from goldentime.contracts.core import (
    MAX_LOCATION_UNCERTAINTY_M,
    AwareDatetime,
    Latitude,
    LocationSource,
    Longitude,
    RecordId,
)
from goldentime.contracts.dispatch import UnitStatus
from goldentime.db import create_schema, engine_for, session_factory, writer
from goldentime.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"
WORKER_STALE_AFTER_S = 10.0


class CallRequest(BaseModel):
    """A 119 call as posted by the console form, a telephony adapter or the CLI.

    Send your own ``id`` when you may retry: the same id is never counted twice.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: RecordId | None = None
    received_at: AwareDatetime | None = Field(
        default=None,
        description="When the call was answered, by the sender's clock; default: now. Far "
        "from the console's clock (GOLDENTIME_CALL_CLOCK_AHEAD_MAX_S / _BEHIND_MAX_S) the call "
        "is still taken, flagged with its clock skew and placed by the console's receipt time.",
    )
    lat: Latitude
    lon: Longitude
    type: IncidentType
    caller: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", max_length=2000)
    source: CallSource = CallSource.API
    location_uncertainty_m: float | None = Field(
        default=None,
        gt=0.0,
        le=MAX_LOCATION_UNCERTAINTY_M,
        description="Radius (m) of the circle the caller is in, as AML or the carrier gave it.",
    )
    location_source: LocationSource | None = None


class CallAccepted(BaseModel):
    call_id: str
    accepted_at: datetime
    clock_skew_s: float | None = Field(
        default=None,
        description="Set when `received_at` was far from the console's clock: by how many "
        "seconds the sender's clock is off (the call is placed by `accepted_at`).",
    )
    status: str = "accepted"


class CallLink(BaseModel):
    call_id: str
    incident_id: str
    link_reason: str


def event_detail(kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """What the dispatcher sees of an attached video or sensor event."""
    if kind == "video":
        snapshot = payload.get("snapshot_url")
        camera = payload.get("camera_id")
        live = None
        if isinstance(snapshot, str) and "/media/" in snapshot and camera:
            live = snapshot.split("/media/", 1)[0] + f"/cameras/{camera}/stream.mjpg"
        return {
            "camera_id": camera,
            "camera_name": payload.get("camera_name"),
            "event_type": payload.get("event_type"),
            "confidence": payload.get("confidence"),
            "advisory": payload.get("advisory", True),
            "snapshot_url": snapshot,
            "live_url": live,
        }
    if kind == "sensor":
        return {
            key: payload.get(key)
            for key in (
                "structure_id",
                "structure_name",
                "sensor_id",
                "kind",
                "level",
                "value",
                "unit",
                "threshold",
                "reason",
                "raised_at",
            )
        }
    return {}


def _add_record_routes(app: FastAPI, *, sessions: sessionmaker[Session], enrich: Enrich) -> None:
    """Read routes over the dispatch records: a call's incident, incidents, units."""

    @app.get("/api/calls/{call_id}", response_model=CallLink, tags=["intake"])
    def get_call(call_id: str) -> CallLink:
        """Which incident a call belongs to (404 until the dispatch worker has stored it)."""
        with sessions() as session:
            call = queries.find_call(session, call_id)
        if call is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"call {call_id} not stored yet")
        return CallLink(call_id=call.id, incident_id=call.incident_id, link_reason=call.link_reason)

    @app.get("/api/incidents", tags=["incidents"])
    def list_incidents(
        status_filter: Annotated[IncidentStatus | None, Query(alias="status")] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    ) -> list[dict[str, Any]]:
        """Incidents, newest first."""
        with sessions() as session:
            rows = queries.list_incidents(session, status=status_filter, limit=limit)
            bodies = [r.model_dump(mode="json") for r in rows]
            enrich(session, bodies)
        return bodies

    @app.get("/api/incidents/{incident_id}", tags=["incidents"])
    def get_incident(incident_id: str) -> dict[str, Any]:
        """One incident with its calls and timeline."""
        with sessions() as session:
            view = queries.incident_view(session, incident_id)
            if view is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no incident {incident_id}")
            return _incident_detail(session, view, enrich)

    @app.get("/api/units", tags=["units"])
    def list_units(
        status_filter: Annotated[UnitStatus | None, Query(alias="status")] = None,
    ) -> list[dict[str, Any]]:
        """Every unit with its status, position and assignment."""
        with sessions() as session:
            units = queries.list_units(session, status=status_filter)
        return [u.model_dump(mode="json") for u in units]


Enrich = Callable[[Session, list[dict[str, Any]]], Any]  # adds place, caller fix, MCI level


def _incident_detail(
    session: Session, view: queries.IncidentView, enrich: Enrich
) -> dict[str, Any]:
    """One incident's board body with its calls, signals, units, timeline, recommendation and
    MCI record (``view``: the stored incident with its members)."""
    incident_id = view.record.id
    body = view.record.model_dump(mode="json")
    enrich(session, [body])
    body["calls"] = [
        {
            "id": c.id,
            "received_at": c.received_at.isoformat(),
            "claimed_at": c.payload.get("received_at"),
            "clock_skew_s": c.clock_skew_s,
            "lat": c.lat,
            "lon": c.lon,
            "type": c.type,
            "caller": c.caller,
            "description": c.description,
            "link_reason": c.link_reason,
            "location_uncertainty_m": c.location_uncertainty_m,
            "location_source": c.location_source,
        }
        for c in view.calls
    ]
    body["events"] = [
        {
            "id": e.id,
            "kind": e.kind,
            "at": e.at.isoformat(),
            "type": e.type,
            "lat": e.lat,
            "lon": e.lon,
            "link_reason": e.link_reason,
            "detail": event_detail(e.kind, e.payload),
        }
        for e in view.signals
    ]
    body["units"] = [u.model_dump(mode="json") for u in view.units]
    body["timeline"] = [t.model_dump(mode="json") for t in queries.timeline(session, incident_id)]
    body["recommendation"] = queries.latest_recommendation(session, incident_id)
    body["mci"] = queries.mci_of(session, incident_id)  # None unless a mass-casualty incident
    return body


def create_app(
    settings: Settings,
    *,
    publisher: Publisher | None = None,
    engine: Engine | None = None,
    clock: Clock | None = None,
    auth: AuthConfig | None = None,
    alerts: AlertService | None = None,
    alerts_settings: AlertsConfig | None = None,
    metrics: ConsoleMetrics | None = None,
    sensor_publisher: BlockingPublisher | None = None,
    basemap: Basemap | None = None,
    warm_basemap: bool = False,
    caller_sms: SmsSender | None = None,
) -> FastAPI:
    """The console app. Without ``publisher`` it publishes to Kafka from ``settings``, and its
    outbox relay sends through that publisher (an injected one, a test's fake, gets no relay).
    Without ``sensor_publisher`` the sensor readings go out through a blocking Kafka publisher.

    Without ``auth`` the mode comes from ``settings.console.auth`` (``required`` unless ``demo``).
    Without ``alerts`` the public-warning service is built from the alert settings
    (:func:`alerts.runtime.build_service`), its records published through ``publisher``.
    With ``warm_basemap`` the map's roads are built from the road network in the background
    at start (the ``goldentime console`` process), not on the first board's request.
    """
    engine = engine or engine_for(settings)
    create_schema(engine)
    from console.accounts import Accounts, seed_demo_users

    sessions = session_factory(engine)
    clock = clock or SystemClock()
    own_publisher = publisher is None  # ours: the outbox relay sends through it too
    publisher = publisher or kafka_publisher(
        settings, client_id="goldentime-console", concurrent_small=True
    )
    own_sensor_publisher = sensor_publisher is None
    sensor_publisher = sensor_publisher or BlockingPublisher(  # the sensors' routes are sync
        kafka_publisher(settings, client_id="goldentime-console-sensors"),
        name="console-sensors-publisher",
    )
    intake = DurableIntake(
        settings,
        engine=engine,
        publisher=publisher,
        clock=clock,
        relay_send=publisher.publish if own_publisher else None,
    )
    auth = auth or auth_config(settings)
    accounts = Accounts(  # read-then-write: BEGIN IMMEDIATE
        session_factory(writer(engine)),
        audit_sessions=session_factory(writer(intake.write_engine)),
    )
    if auth.demo:
        seed_demo_users(accounts, now=clock.now())
    secret = auth.secret_key or load_or_create_secret(settings.data.dir / SECRET_FILE_NAME)
    signer = SessionSigner(secret, max_age_s=auth.session_max_age_s)
    limiter = LoginRateLimiter(max_failures=auth.login_max_failures, window_s=auth.login_window_s)
    incident_places = IncidentPlaces(settings.data.seoul_dir)
    enrich_incidents = with_mci_levels(incident_places.enrich)  # place, caller fix, MCI level
    feed = ChangeFeed(sessions, enrich=enrich_incidents, surges=surge_reader(clock.now))
    basemap = basemap or Basemap(settings)
    alerts_settings = alerts_settings or alerts_config(settings)
    if alerts is None:
        alerts = build_service(
            settings,
            sessions=sessions,
            clock=clock,
            sink=publisher_sink(partial(publish_record, publisher)),
            config=alerts_settings,
        )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if warm_basemap:
            threading.Thread(target=basemap.warm, name="basemap-warm", daemon=True).start()
        try:
            async with running(feed), exchange.running(), intake.running():
                yield
        finally:
            await publisher.stop()
            if own_sensor_publisher:
                await asyncio.to_thread(sensor_publisher.close)

    app = FastAPI(
        title="Golden Time console",
        version=__version__,
        description="119 control-centre console: call intake, incidents, dispatch.",
        lifespan=lifespan,
    )
    app.state.intake = intake  # the console server drains it on the first stop signal
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(
        AccessGuard,
        router=app.router,
        config=auth,
        signer=signer,
        accounts=accounts,
        clock=clock,
    )
    app.add_middleware(DrainGuard, intake=intake)  # outermost: stopping answers 503 first
    add_page_routes(
        app,
        static_dir=STATIC_DIR,
        config=auth,
        signer=signer,
        accounts=accounts,
        limiter=limiter,
        clock=clock,
    )

    @app.get("/api/stream", tags=["live"], response_class=StreamingResponse)
    async def stream() -> StreamingResponse:
        """Server-sent events: ``incident`` and ``unit`` records as they change, and the
        ``surges`` list (the board's surge banners) when it changes."""
        return StreamingResponse(
            feed.stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get("/api/health", tags=["system"])
    def health() -> dict[str, Any]:
        """Console liveness, and whether dispatch workers hold the call partitions."""
        now = clock.now()
        with sessions() as session:
            workers = queries.live_workers(session, now=now, max_age_s=WORKER_STALE_AFTER_S)
        return {
            "status": "ok",
            "version": __version__,
            "time": now.isoformat(),
            "dispatch_ready": any(w.partitions > 0 for w in workers),
            "intake_durable": intake.durable,
            "intake_pending": intake.pending(),
            "workers": [
                {"name": w.name, "last_seen": w.last_seen.isoformat(), "partitions": w.partitions}
                for w in workers
            ],
        }

    @app.post(
        "/api/calls",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=CallAccepted,
        tags=["intake"],
        responses={
            503: {
                "description": "The incident database did not take the call (or the console "
                "is stopping): nothing was accepted; retry with the same id after Retry-After."
            }
        },
    )
    async def post_call(request: CallRequest) -> CallAccepted | JSONResponse:
        """Take a 119 call. 202 means it is in the incident database (the intake outbox) and
        will become part of exactly one incident, whatever restarts before it is processed."""
        now = clock.now()
        claimed = request.received_at or now
        call = Call(
            id=request.id or f"call-{uuid.uuid4().hex[:16]}",
            received_at=claimed,
            lat=request.lat,
            lon=request.lon,
            type=request.type,
            caller=request.caller,
            description=request.description,
            source=request.source,
            location_uncertainty_m=request.location_uncertainty_m,
            location_source=request.location_source,
            accepted_at=now,
            clock_skew_s=sender_clock_skew_s(
                claimed,
                now,
                ahead_max_s=settings.intake.clock_ahead_max_s,
                behind_max_s=settings.intake.clock_behind_max_s,
            ),
        )
        refused = await intake.accept(
            topics.CALLS, call, key=cell_of(call.lat, call.lon), id_field="call_id"
        )
        if refused is not None:
            return refused
        feed.expect_change()  # the new incident shows on every board at once
        return CallAccepted(call_id=call.id, accepted_at=now, clock_skew_s=call.clock_skew_s)

    _add_record_routes(app, sessions=sessions, enrich=enrich_incidents)

    add_command_routes(
        app, intake=intake, sessions=sessions, clock=clock, on_sent=feed.expect_change
    )
    add_mci_routes(
        app,
        send=command_sender(intake=intake, clock=clock, on_sent=feed.expect_change),
        sessions=sessions,
        clock=clock,
    )
    exchange = mount_exchange(
        app, settings=settings, engine=engine, publisher=publisher, clock=clock, feed=feed
    )
    mount_sensor_ingest(app, settings=settings, clock=clock, publisher=sensor_publisher)
    add_coverage_route(app, CoverageService(settings, sessions, network=basemap.coverage))
    console_metrics = metrics or ConsoleMetrics()
    mount_alerts(
        app,
        service=alerts,
        config=alerts_settings,
        settings=settings,
        static_dir=STATIC_DIR,
        banner=DEMO_BANNER if auth.demo else "",
        on_delivered=alert_delivery_recorder(console_metrics.metrics),
    )
    add_metrics(app, console_metrics)
    add_scene_route(app, sessions=sessions, scene=SceneMap())
    add_places_route(app, incident_places)
    add_basemap_routes(app, basemap)
    add_caller_media_routes(
        app,
        sessions=sessions,
        writes=session_factory(writer(engine)),
        publisher=publisher,
        clock=clock,
        config=MediaConfig(
            base_url=alerts_settings.base_url(settings),
            ttl_s=settings.caller_media.link_ttl_s,
            call_accuracy_m=settings.caller_media.call_accuracy_m,
            ice_servers=parse_ice_servers(settings.caller_media.webrtc_ice_servers),
            retention_days=settings.caller_media.recording_retention_days,
        ),
        sms=caller_sms if caller_sms is not None else sms_sender(alerts_settings),
        audit=accounts.audit,
        static_dir=STATIC_DIR,
    )

    @app.exception_handler(SQLAlchemyError)
    async def database_error(_request: Any, err: SQLAlchemyError) -> JSONResponse:
        return JSONResponse(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            content={"detail": f"incident database unavailable: {type(err).__name__}"},
        )

    # outermost: every answer carries the CSP and friends (console/security.py)
    app.add_middleware(SecurityHeaders, style_hashes=[style_hash(PUBLIC_PAGE_STYLE)])
    document_errors(app)  # the shared error answers, in the OpenAPI document
    return app
