"""The console web application: intake API, incident API, dispatcher board.

Build it with :func:`create_app`; the broker publisher and the database engine are injected,
so tests can run it against a real broker and database or a fake publisher.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, status
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from alerts.runtime import AlertsConfig, alerts_config, build_service, publisher_sink
from alerts.service import AlertService
from console.alerts_mount import mount_alerts
from console.auth import (
    SECRET_FILE_NAME,
    AuthConfig,
    LoginRateLimiter,
    SessionSigner,
    auth_config_from_env,
    load_or_create_secret,
)
from console.basemap import add_basemap_roads_route
from console.caller_media_routes import (
    MediaConfig,
    SmsSender,
    add_caller_media_routes,
    parse_ice_servers,
)
from console.caller_media_sms import sms_sender
from console.commands import add_command_routes
from console.coverage import CoverageService, add_coverage_route
from console.guard import AccessGuard
from console.live import ChangeFeed, running
from console.metrics import ConsoleMetrics, add_metrics, alert_delivery_recorder
from console.pages import DEMO_BANNER, add_page_routes
from console.publisher import KafkaPublisher, RecordPublisher
from console.scene import SceneMap, add_scene_route
from console.sensors_mount import mount_sensor_ingest
from dispatch import store
from dispatch import units as units_store
from dispatch.cells import cell_of
from dispatch.units import unit_record
from goldentime import __version__, topics
from goldentime.clock import Clock, SystemClock
from goldentime.contracts import Call, CallSource, IncidentStatus, IncidentType
from goldentime.contracts.core import AwareDatetime, Latitude, Longitude, RecordId
from goldentime.contracts.dispatch import UnitStatus
from goldentime.db import create_schema, engine_for, session_factory, writer
from goldentime.errors import BrokerError
from goldentime.settings import Settings
from sensors.ingest import Publisher as SensorPublisher

STATIC_DIR = Path(__file__).parent / "static"
WORKER_STALE_AFTER_S = 10.0


class CallRequest(BaseModel):
    """A 119 call as posted by the console form, a telephony adapter or the CLI.

    Send your own ``id`` when you may retry: the same id is never counted twice.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: RecordId | None = None
    received_at: AwareDatetime | None = Field(
        default=None, description="When the call was answered; default: now."
    )
    lat: Latitude
    lon: Longitude
    type: IncidentType
    caller: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", max_length=2000)
    source: CallSource = CallSource.API


class CallAccepted(BaseModel):
    call_id: str
    accepted_at: datetime
    status: str = "accepted"


class CallLink(BaseModel):
    call_id: str
    incident_id: str
    link_reason: str


def event_detail(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
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


def create_app(
    settings: Settings,
    *,
    publisher: RecordPublisher | None = None,
    engine: Engine | None = None,
    clock: Clock | None = None,
    auth: AuthConfig | None = None,
    alerts: AlertService | None = None,
    alerts_settings: AlertsConfig | None = None,
    metrics: ConsoleMetrics | None = None,
    sensor_publisher: SensorPublisher | None = None,
    caller_sms: SmsSender | None = None,
) -> FastAPI:
    """The console app. Without ``publisher`` it publishes to Kafka from ``settings``.

    Without ``auth`` the mode comes from ``GOLDENTIME_AUTH`` (``required`` unless ``demo``).
    Without ``alerts`` the public-warning service is built from the alert settings
    (:func:`alerts.runtime.build_service`), its records published through ``publisher``.
    """
    engine = engine or engine_for(settings)
    create_schema(engine)
    from console.accounts import Accounts, seed_demo_users

    sessions = session_factory(engine)
    clock = clock or SystemClock()
    publisher = publisher or KafkaPublisher(settings)
    auth = auth or auth_config_from_env()
    accounts = Accounts(session_factory(writer(engine)))  # read-then-write: BEGIN IMMEDIATE
    if auth.demo:
        seed_demo_users(accounts, now=clock.now())
    secret = auth.secret_key or load_or_create_secret(settings.data_dir / SECRET_FILE_NAME)
    signer = SessionSigner(secret, max_age_s=auth.session_max_age_s)
    limiter = LoginRateLimiter(max_failures=auth.login_max_failures, window_s=auth.login_window_s)
    feed = ChangeFeed(sessions)
    alerts_settings = alerts_settings or alerts_config(settings)
    if alerts is None:
        alerts = build_service(
            settings,
            sessions=sessions,
            clock=clock,
            sink=publisher_sink(publisher.publish),
            config=alerts_settings,
        )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await publisher.start()
        try:
            async with running(feed):
                yield
        finally:
            await publisher.stop()

    app = FastAPI(
        title="Golden Time console",
        version=__version__,
        description="119 control-centre console: call intake, incidents, dispatch.",
        lifespan=lifespan,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(
        AccessGuard,
        router=app.router,
        config=auth,
        signer=signer,
        accounts=accounts,
        clock=clock,
    )
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
        """Server-sent events: ``incident`` and ``unit`` records as they change."""
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
            workers = store.live_workers(session, now=now, max_age_s=WORKER_STALE_AFTER_S)
        return {
            "status": "ok",
            "version": __version__,
            "time": now.isoformat(),
            "dispatch_ready": any(w.partitions > 0 for w in workers),
            "workers": [
                {"name": w.name, "last_seen": w.last_seen.isoformat(), "partitions": w.partitions}
                for w in workers
            ],
        }

    @app.get("/api/basemap/gu", tags=["map"])
    def basemap_gu() -> FileResponse:
        """Seoul gu boundaries (GeoJSON), drawn as the offline basemap."""
        return FileResponse(
            settings.seoul_data_dir / "boundaries" / "seoul_gu.geojson",
            media_type="application/geo+json",
        )

    @app.post(
        "/api/calls",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=CallAccepted,
        tags=["intake"],
        responses={503: {"description": "The broker did not take the call; retry."}},
    )
    async def post_call(request: CallRequest) -> CallAccepted | JSONResponse:
        """Take a 119 call. 202 means the broker has it and it will become an incident."""
        now = clock.now()
        call = Call(
            id=request.id or f"call-{uuid.uuid4().hex[:16]}",
            received_at=request.received_at or now,
            lat=request.lat,
            lon=request.lon,
            type=request.type,
            caller=request.caller,
            description=request.description,
            source=request.source,
        )
        try:
            await publisher.publish(topics.CALLS, call, key=cell_of(call.lat, call.lon))
        except BrokerError as err:
            return JSONResponse(
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                content={"detail": f"call not taken, retry: {err}", "call_id": call.id},
            )
        return CallAccepted(call_id=call.id, accepted_at=now)

    @app.get("/api/calls/{call_id}", response_model=CallLink, tags=["intake"])
    def get_call(call_id: str) -> CallLink:
        """Which incident a call belongs to (404 until the dispatch worker has stored it)."""
        with sessions() as session:
            row = session.get(store.CallRow, call_id)
            if row is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"call {call_id} not stored yet")
            return CallLink(
                call_id=row.id, incident_id=row.incident_id, link_reason=row.link_reason
            )

    @app.get("/api/incidents", tags=["incidents"])
    def list_incidents(
        status_filter: Annotated[IncidentStatus | None, Query(alias="status")] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    ) -> list[dict[str, Any]]:
        """Incidents, newest first."""
        with sessions() as session:
            rows = store.list_incidents(
                session, status=status_filter.value if status_filter else None, limit=limit
            )
        return [r.model_dump(mode="json") for r in rows]

    @app.get("/api/incidents/{incident_id}", tags=["incidents"])
    def get_incident(incident_id: str) -> dict[str, Any]:
        """One incident with its calls and timeline."""
        with sessions() as session:
            row = store.get_incident(session, incident_id)
            if row is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no incident {incident_id}")
            body = store.incident_record(row).model_dump(mode="json")
            body["calls"] = [
                {
                    "id": c.id,
                    "received_at": c.received_at.isoformat(),
                    "lat": c.lat,
                    "lon": c.lon,
                    "type": c.type,
                    "caller": c.caller,
                    "description": c.description,
                    "link_reason": c.link_reason,
                }
                for c in row.calls
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
                for e in row.signals
            ]
            body["units"] = [unit_record(u).model_dump(mode="json") for u in row.units]
            body["timeline"] = [
                t.model_dump(mode="json") for t in store.get_timeline(session, incident_id)
            ]
            body["recommendation"] = store.latest_recommendation(session, incident_id)
        return body

    @app.get("/api/units", tags=["units"])
    def list_units(
        status_filter: Annotated[UnitStatus | None, Query(alias="status")] = None,
    ) -> list[dict[str, Any]]:
        """Every unit with its status, position and assignment."""
        with sessions() as session:
            rows = units_store.list_units(session, status=status_filter)
            return [unit_record(r).model_dump(mode="json") for r in rows]

    add_command_routes(app, publisher=publisher, sessions=sessions, clock=clock)
    mount_sensor_ingest(app, settings=settings, clock=clock, publisher=sensor_publisher)
    add_coverage_route(app, CoverageService(settings, sessions))
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
    add_caller_media_routes(
        app,
        sessions=sessions,
        writes=session_factory(writer(engine)),
        publisher=publisher,
        clock=clock,
        config=MediaConfig(
            base_url=alerts_settings.base_url(settings),
            ttl_s=settings.caller_media_link_ttl_s,
            call_accuracy_m=settings.caller_media_call_accuracy_m,
            ice_servers=parse_ice_servers(settings.webrtc_ice_servers),
            retention_days=settings.caller_media_recording_retention_days,
        ),
        sms=caller_sms if caller_sms is not None else sms_sender(alerts_settings),
        audit=accounts.audit,
        static_dir=STATIC_DIR,
    )
    add_basemap_roads_route(
        app, graphml=settings.seoul_data_dir / "roads" / "seoul_central_drive.graphml"
    )

    @app.exception_handler(SQLAlchemyError)
    async def database_error(_request: Any, err: SQLAlchemyError) -> JSONResponse:
        return JSONResponse(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            content={"detail": f"incident database unavailable: {type(err).__name__}"},
        )

    return app
