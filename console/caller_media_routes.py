"""HTTP routes of caller media: the SMS link, the caller's page and API, the dispatcher's side.

Caller side (public, ``/m/...``): the link page, the claim that binds the link to one browser,
signalling, positions, photos, end. Everything after the claim needs the caller session
cookie (HttpOnly, SameSite=Strict, path ``/m``). Console side (signed in): create and send the
link, read the media state, watch the stream, take snapshots; only roles on the incident see
it (dispatcher and supervisor; crews of units assigned to it).
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Body, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from console.caller_media import (
    LinkRefusedError,
    SignalError,
    SignalHub,
    caller_link,
    check_openable,
    claim,
    find_link,
    issue_link,
    latest_link,
    media_state,
)
from console.caller_media_store import (
    MediaLinkRow,
    MediaLocationRow,
    MediaRecordingRow,
    MediaSnapshotRow,
)
from console.guard import current_principal
from console.roles import COMMANDERS, Principal, Role
from dispatch import queries
from goldentime import topics
from goldentime.broker.publisher import Publisher, publish_record
from goldentime.clock import Clock
from goldentime.contracts.core import Latitude, Longitude
from goldentime.contracts.dispatch import Command, CommandAction
from goldentime.errors import BrokerError, ConfigError, GoldenTimeError

CALLER_COOKIE = "gt_caller"
MAX_IMAGE_BYTES = 3_000_000
MAX_RECORDING_CHUNK_BYTES = 5_000_000
PURGE_EVERY_S = 3600.0
MAX_SDP_CHARS = 20_000
IMAGE_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG"}
PHONE = re.compile(r"^\+?[0-9][0-9 -]{6,20}$")
CALLER_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
REFUSALS = {
    "unknown": ("유효하지 않은 링크입니다.", "This link is not valid.", 404),
    "expired": ("링크가 만료되었습니다.", "This link has expired.", 410),
    "used": (
        "이 링크는 이미 다른 기기에서 열렸습니다.",
        "This link was already opened on another device.",
        410,
    ),
    "ended": ("영상 신고가 종료되었습니다.", "This video report has ended.", 410),
}
ACTIVE_STATUSES = frozenset({"open", "dispatched", "on_scene"})
SmsSender = Callable[[str, str, int], str]  # (to, body, validity_s) -> status


@dataclass(frozen=True)
class MediaConfig:
    base_url: str
    ttl_s: int
    call_accuracy_m: float
    ice_servers: list[dict[str, Any]]
    retention_days: int = 30


def parse_ice_servers(text: str) -> list[dict[str, Any]]:
    """The ``caller_media.webrtc_ice_servers`` setting: a JSON list of RTCIceServer objects."""
    try:
        value = json.loads(text or "[]")
    except json.JSONDecodeError as err:
        raise ConfigError(f"GOLDENTIME_WEBRTC_ICE_SERVERS is not JSON: {err}") from err
    if not isinstance(value, list) or not all(isinstance(s, dict) and "urls" in s for s in value):
        raise ConfigError("GOLDENTIME_WEBRTC_ICE_SERVERS must be a list of {urls: ...} objects")
    return value


class LinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    phone: str | None = Field(
        default=None, max_length=32, description="Caller's number; default: the call's caller."
    )


class SdpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    viewer_id: str = Field(max_length=40)
    sdp: str = Field(min_length=10, max_length=MAX_SDP_CHARS)


class AnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sdp: str = Field(min_length=10, max_length=MAX_SDP_CHARS)


class ClaimBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(max_length=200)


class LocationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: Latitude
    lon: Longitude
    accuracy_m: float = Field(gt=0, le=100_000)


class PollBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    camera: bool = False


class RecordingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: bool


def refusal_page(reason: str) -> Response:
    korean, english, code = REFUSALS.get(reason, REFUSALS["unknown"])
    body = (
        '<!doctype html><html lang="ko"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>119 영상 신고 · Video report</title>"
        '<link rel="stylesheet" href="/static/caller.css"></head><body class="caller">'
        f'<main class="refused" data-reason="{html.escape(reason)}"><h1>119</h1>'
        f'<p class="big">{html.escape(korean)}</p><p lang="en">{html.escape(english)}</p>'
        "<p>긴급하면 119로 다시 전화하세요. · In an emergency, call 119 again.</p>"
        "</main></body></html>"
    )
    return _caller_headers(HTMLResponse(body, status_code=code))


def _caller_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CALLER_CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _image(body: bytes, content_type: str) -> str:
    kind = content_type.split(";")[0].strip().lower()
    magic = IMAGE_TYPES.get(kind)
    if magic is None:
        raise HTTPException(415, f"content-type must be one of {', '.join(IMAGE_TYPES)}")
    if not body or len(body) > MAX_IMAGE_BYTES:
        raise HTTPException(413, f"image must be 1..{MAX_IMAGE_BYTES} bytes")
    if not body.startswith(magic):
        raise HTTPException(422, f"body is not a {kind} image")
    return kind


def add_caller_media_routes(
    app: FastAPI,
    *,
    sessions: sessionmaker[Session],
    writes: sessionmaker[Session],
    publisher: Publisher,
    clock: Clock,
    config: MediaConfig,
    sms: SmsSender | None,
    audit: Callable[..., None],
    static_dir: Path,
    hub: SignalHub | None = None,
) -> SignalHub:
    hub = hub or SignalHub()
    media = _CallerMedia(
        sessions=sessions,
        writes=writes,
        publisher=publisher,
        clock=clock,
        config=config,
        sms=sms,
        audit=audit,
        static_dir=static_dir,
        hub=hub,
    )
    media.purge_recordings()
    app.state.caller_media_purge = media.purge_recordings
    _add_link_routes(app, media)
    _add_evidence_routes(app, media)
    _add_caller_session_routes(app, media)
    _add_caller_upload_routes(app, media)
    return hub


class _CallerMedia:
    """What the caller-media routes share: stores, clock, settings, SMS, audit, signalling."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        writes: sessionmaker[Session],
        publisher: Publisher,
        clock: Clock,
        config: MediaConfig,
        sms: SmsSender | None,
        audit: Callable[..., None],
        static_dir: Path,
        hub: SignalHub,
    ) -> None:
        self.sessions = sessions
        self.writes = writes
        self.publisher = publisher
        self.clock = clock
        self.config = config
        self.sms = sms
        self.audit = audit
        self.static_dir = static_dir
        self.hub = hub
        self.purged_at = float("-inf")

    def purge_recordings(self, *, force: bool = False) -> int:
        """Delete recordings older than the retention period (at most once an hour; the
        panel's polling runs it, and it runs once when the console starts)."""
        now_mono = self.clock.monotonic()
        if not force and now_mono - self.purged_at < PURGE_EVERY_S:
            return 0
        self.purged_at = now_mono
        cutoff = self.clock.now() - timedelta(days=self.config.retention_days)
        with self.writes() as session, session.begin():
            result = session.execute(delete(MediaRecordingRow).where(MediaRecordingRow.at < cutoff))
            return int(getattr(result, "rowcount", 0) or 0)

    def audit_caller(self, link_id: str | None, request: Request, code: int) -> None:
        who = f"caller:{link_id}" if link_id else "caller:?"
        self.audit(
            at=self.clock.now(),
            principal=Principal(name=who, roles=frozenset(), via="token"),
            method=request.method,
            path=request.url.path if not request.url.path.startswith("/m/") else "/m/<link>",
            status=code,
            command_id=None,
        )

    def incident_of_call(self, session: Session, call_id: str) -> str:
        call = queries.find_call(session, call_id)
        if call is None:
            raise HTTPException(404, f"call {call_id} not stored yet")
        return call.incident_id

    def may_view(self, session: Session, principal: Principal, incident_id: str) -> None:
        if principal.may(COMMANDERS):
            return
        if (
            Role.CREW in principal.roles
            and principal.unit_id
            and queries.unit_incident_id(session, principal.unit_id) == incident_id
        ):
            return
        raise HTTPException(403, f"{principal.name} is not on incident {incident_id}")

    def viewable_link(self, request: Request, call_id: str) -> tuple[MediaLinkRow, str]:
        principal = current_principal(request)
        with self.sessions() as session:
            incident_id = self.incident_of_call(session, call_id)
            self.may_view(session, principal, incident_id)
            row = latest_link(session, call_id)
            if row is None:
                raise HTTPException(404, f"no media link for call {call_id}")
            session.expunge(row)
            return row, incident_id

    def media_body(self, session: Session, row: MediaLinkRow, call_id: str) -> dict[str, Any]:
        now = self.clock.now()
        last = session.scalars(
            select(MediaLocationRow)
            .where(MediaLocationRow.link_id == row.id)
            .order_by(MediaLocationRow.seq.desc())
            .limit(1)
        ).first()
        snaps = session.execute(
            select(
                MediaSnapshotRow.id,
                MediaSnapshotRow.at,
                MediaSnapshotRow.source,
                MediaSnapshotRow.taken_by,
                MediaSnapshotRow.content_type,
            )
            .where(MediaSnapshotRow.link_id == row.id)
            .order_by(MediaSnapshotRow.at)
        ).all()
        chunks = session.scalar(select(func.count()).where(MediaRecordingRow.link_id == row.id))
        return {
            "call_id": call_id,
            "link_id": row.id,
            "recording_chunks": int(chunks or 0),
            "state": media_state(row, now=now, live=self.hub.is_live(row.id)),
            "expires_at": row.expires_at.isoformat(),
            "recording": row.recording,
            "location": None
            if last is None
            else {
                "lat": last.lat,
                "lon": last.lon,
                "accuracy_m": last.accuracy_m,
                "at": last.at.isoformat(),
            },
            "snapshots": [
                {
                    "id": s.id,
                    "at": s.at.isoformat(),
                    "source": s.source,
                    "taken_by": s.taken_by,
                    "content_type": s.content_type,
                    "url": f"/api/calls/{call_id}/media/snapshots/{s.id}",
                }
                for s in snaps
            ],
        }

    def store_snapshot(
        self, row: MediaLinkRow, incident_id: str, data: bytes, kind: str, source: str, by: str
    ) -> dict[str, Any]:
        snap = MediaSnapshotRow(
            id=f"snap-{uuid.uuid4().hex[:16]}",
            link_id=row.id,
            call_id=row.call_id,
            incident_id=incident_id,
            at=self.clock.now(),
            source=source,
            taken_by=by,
            content_type=kind,
            data=data,
        )
        with self.writes() as session, session.begin():
            session.add(snap)
        return {"id": snap.id, "url": f"/api/calls/{row.call_id}/media/snapshots/{snap.id}"}

    def caller_row(self, request: Request) -> MediaLinkRow:
        with self.sessions() as session:
            row = caller_link(session, request.cookies.get(CALLER_COOKIE), now=self.clock.now())
            if row is None:
                raise HTTPException(401, "caller session unknown or ended")
            session.expunge(row)
            return row

    def store_location(self, row: MediaLinkRow, body: LocationBody, now: datetime) -> str | None:
        """Store the fix; the incident id to relocate when it beats the best accuracy so far."""
        with self.writes() as session, session.begin():
            session.add(
                MediaLocationRow(
                    link_id=row.id, at=now, lat=body.lat, lon=body.lon, accuracy_m=body.accuracy_m
                )
            )
            stored = session.get(MediaLinkRow, row.id)
            call = queries.find_call(session, row.call_id)
            if stored is None or call is None or body.accuracy_m >= stored.best_accuracy_m * 0.8:
                return None
            stored.best_accuracy_m = body.accuracy_m
            return call.incident_id

    def send_link(self, call_id: str, principal: Principal, body: LinkBody) -> dict[str, Any]:
        """Issue a caller's one-time link for ``call_id`` and send it by SMS (the status says
        whether it went)."""
        if body.phone is not None and not PHONE.match(body.phone):
            raise HTTPException(422, "phone: not a phone number")
        now = self.clock.now()
        with self.writes() as session, session.begin():
            call = queries.find_call(session, call_id)
            if call is None:
                raise HTTPException(404, f"call {call_id} not stored yet")
            incident = queries.find_incident(session, call.incident_id)
            if incident is None or incident.status.value not in ACTIVE_STATUSES:
                state = incident.status.value if incident else "missing"
                raise HTTPException(409, f"incident {call.incident_id} is {state}: no media link")
            phone = body.phone or (
                call.caller if call.caller and PHONE.match(call.caller) else None
            )
            token, row = issue_link(
                session,
                call_id=call_id,
                created_by=principal.name,
                now=now,
                ttl_s=self.config.ttl_s,
                phone=phone,
                call_accuracy_m=self.config.call_accuracy_m,
            )
            link_id, expires_at = row.id, row.expires_at
        url = f"{self.config.base_url}/m/{token}"
        minutes = max(1, self.config.ttl_s // 60)
        text = f"[119] 현장 영상과 위치를 보내 주세요 ({minutes}분 내 1회): {url}"
        if phone is None:
            sms_status = "no_phone"
        elif self.sms is None:
            sms_status = "not_configured"
        else:
            try:
                sms_status = self.sms(phone, text, self.config.ttl_s)
            except GoldenTimeError as err:  # the link stands; the status says why
                sms_status = f"failed: {err}"[:200]
        with self.writes() as session, session.begin():
            stored = session.get(MediaLinkRow, link_id)
            if stored is not None:
                stored.sms_status = sms_status
        return {"url": url, "expires_at": expires_at.isoformat(), "sms_status": sms_status}


def _add_link_routes(app: FastAPI, media: _CallerMedia) -> None:
    """The console side: send a link, the media of a call or incident, watch."""
    sessions = media.sessions
    config = media.config
    hub = media.hub
    purge_recordings = media.purge_recordings
    may_view = media.may_view
    viewable_link = media.viewable_link
    media_body = media.media_body

    @app.post("/api/calls/{call_id}/media-link", tags=["caller media"])
    def create_link(call_id: str, request: Request, body: LinkBody | None = None) -> Any:
        """Send the caller a one-time link (SMS) to stream video and location to the console."""
        return media.send_link(call_id, current_principal(request), body or LinkBody())

    @app.get("/api/calls/{call_id}/media", tags=["caller media"])
    def get_media(call_id: str, request: Request) -> dict[str, Any]:
        """State of the caller's stream, last position (with accuracy) and snapshots."""
        row, _incident = viewable_link(request, call_id)
        purge_recordings()
        with sessions() as session:
            return media_body(session, row, call_id)

    @app.get("/api/incidents/{incident_id}/media", tags=["caller media"])
    def incident_media(incident_id: str, request: Request) -> list[dict[str, Any]]:
        """Caller media of every call of an incident (the panel polls this)."""
        principal = current_principal(request)
        purge_recordings()
        with sessions() as session:
            may_view(session, principal, incident_id)
            call_ids = queries.call_ids_of(session, incident_id)
            found = []
            for call_id in call_ids:
                row = latest_link(session, call_id)
                if row is not None:
                    found.append(media_body(session, row, call_id))
            return found

    @app.post("/api/calls/{call_id}/media/watch", tags=["caller media"])
    def watch(call_id: str, request: Request) -> dict[str, Any]:
        """Ask the caller's phone for a stream to this page (audited: who watched when)."""
        row, _incident = viewable_link(request, call_id)
        viewer_id = hub.watch(row.id, user=current_principal(request).name)
        return {"viewer_id": viewer_id, "ice_servers": config.ice_servers}

    @app.get("/api/calls/{call_id}/media/watch/{viewer_id}", tags=["caller media"])
    def watch_offer(call_id: str, viewer_id: str, request: Request) -> dict[str, Any]:
        row, _incident = viewable_link(request, call_id)
        try:
            offer = hub.viewer_poll(row.id, viewer_id, user=current_principal(request).name)
        except SignalError as err:
            raise HTTPException(404, str(err)) from err
        return {"offer": offer}

    @app.post("/api/calls/{call_id}/media/watch/{viewer_id}/answer", tags=["caller media"])
    def watch_answer(call_id: str, viewer_id: str, body: AnswerBody, request: Request) -> Any:
        row, _incident = viewable_link(request, call_id)
        try:
            hub.answer(row.id, viewer_id, body.sdp, user=current_principal(request).name)
        except SignalError as err:
            raise HTTPException(404, str(err)) from err
        return {"ok": True}


def _add_evidence_routes(app: FastAPI, media: _CallerMedia) -> None:
    """The console side: snapshots and the recording, kept with the incident."""
    sessions = media.sessions
    writes = media.writes
    hub = media.hub
    viewable_link = media.viewable_link
    store_snapshot = media.store_snapshot

    @app.post("/api/calls/{call_id}/media/snapshots", tags=["caller media"], status_code=201)
    async def take_snapshot(
        call_id: str, request: Request, data: Annotated[bytes, Body(media_type="image/jpeg")]
    ) -> dict[str, Any]:
        """A still from the live video (JPEG/PNG body), kept with the incident."""
        kind = _image(data, request.headers.get("content-type", ""))
        row, incident_id = await anyio.to_thread.run_sync(viewable_link, request, call_id)
        by = current_principal(request).name
        return await anyio.to_thread.run_sync(
            store_snapshot, row, incident_id, data, kind, "console", by
        )

    @app.get("/api/calls/{call_id}/media/snapshots/{snapshot_id}", tags=["caller media"])
    def get_snapshot(call_id: str, snapshot_id: str, request: Request) -> Response:
        viewable_link(request, call_id)
        with sessions() as session:
            snap = session.get(MediaSnapshotRow, snapshot_id)
            if snap is None or snap.call_id != call_id:
                raise HTTPException(404, f"no snapshot {snapshot_id}")
            return Response(
                snap.data, media_type=snap.content_type, headers={"Cache-Control": "private"}
            )

    @app.post("/api/calls/{call_id}/media/recording", tags=["caller media"])
    def set_recording(call_id: str, body: RecordingBody, request: Request) -> dict[str, Any]:
        """Supervisor: allow (or stop) recording of this caller's stream."""
        row, _incident = viewable_link(request, call_id)
        with writes() as session, session.begin():
            stored = session.get(MediaLinkRow, row.id)
            if stored is not None:
                stored.recording = body.on
        hub.set_recording(row.id, body.on)
        return {"recording": body.on}

    @app.get("/api/calls/{call_id}/media/recording", tags=["caller media"])
    def get_recording(call_id: str, request: Request) -> Response:
        """The recorded stream (WebM pieces in order), while within the retention period."""
        row, _incident = viewable_link(request, call_id)
        with sessions() as session:
            pieces = session.execute(
                select(MediaRecordingRow.data, MediaRecordingRow.content_type)
                .where(MediaRecordingRow.link_id == row.id)
                .order_by(MediaRecordingRow.seq)
            ).all()
        if not pieces:
            raise HTTPException(404, f"nothing recorded for call {call_id}")
        return Response(
            b"".join(p.data for p in pieces),
            media_type="video/webm",
            headers={"Cache-Control": "private, no-store"},
        )


def _add_caller_session_routes(app: FastAPI, media: _CallerMedia) -> None:
    """The caller side (public): the page, claiming the link, signalling."""
    sessions = media.sessions
    writes = media.writes
    clock = media.clock
    config = media.config
    static_dir = media.static_dir
    hub = media.hub
    audit_caller = media.audit_caller
    caller_row = media.caller_row

    @app.get("/m/{token}", include_in_schema=False)
    def caller_page(token: str, request: Request) -> Response:
        now = clock.now()
        cookie = request.cookies.get(CALLER_COOKIE)
        link_id: str | None = None
        try:
            with sessions() as session:
                row = find_link(session, token)
                link_id = row.id
                check_openable(row, cookie, now=now)
        except LinkRefusedError as refused:
            audit_caller(link_id, request, REFUSALS[refused.reason][2])
            return refusal_page(refused.reason)
        page = (static_dir / "caller.html").read_text(encoding="utf-8")
        return _caller_headers(HTMLResponse(page))

    @app.post("/m/api/claim", include_in_schema=False)
    def caller_claim(body: ClaimBody, request: Request) -> Response:
        now = clock.now()
        cookie = request.cookies.get(CALLER_COOKIE)
        link_id: str | None = None
        try:
            with writes() as session, session.begin():
                found = find_link(session, body.token)
                link_id, recording = found.id, found.recording
                value, fresh = claim(session, body.token, cookie, now=now)
        except LinkRefusedError as refused:
            audit_caller(link_id, request, REFUSALS[refused.reason][2])
            korean, english, code = REFUSALS[refused.reason]
            return JSONResponse(
                {"refused": refused.reason, "ko": korean, "en": english}, status_code=code
            )
        if fresh:
            audit_caller(link_id, request, 200)
        hub.set_recording(found.id, recording)
        response = JSONResponse({"ok": True, "ice_servers": config.ice_servers})
        response.set_cookie(
            CALLER_COOKIE,
            value,
            max_age=2 * 3600,
            httponly=True,
            samesite="strict",
            secure=config.base_url.startswith("https://"),
            path="/m",
        )
        return response

    @app.post("/m/api/poll", include_in_schema=False)
    def caller_poll(body: PollBody, request: Request) -> dict[str, Any]:
        row = caller_row(request)
        return hub.caller_poll(row.id, camera=body.camera)

    @app.post("/m/api/offer", include_in_schema=False)
    def caller_offer(body: SdpBody, request: Request) -> dict[str, Any]:
        row = caller_row(request)
        try:
            hub.offer(row.id, body.viewer_id, body.sdp)
        except SignalError as err:
            raise HTTPException(404, str(err)) from err
        return {"ok": True}


def _add_caller_upload_routes(app: FastAPI, media: _CallerMedia) -> None:
    """The caller side (public): location fixes, photos, recording, the end."""
    sessions = media.sessions
    writes = media.writes
    publisher = media.publisher
    clock = media.clock
    hub = media.hub
    audit_caller = media.audit_caller
    incident_of_call = media.incident_of_call
    store_snapshot = media.store_snapshot
    caller_row = media.caller_row
    store_location = media.store_location

    @app.post("/m/api/location", include_in_schema=False)
    async def caller_location(body: LocationBody, request: Request) -> dict[str, Any]:
        row = await anyio.to_thread.run_sync(caller_row, request)
        now = clock.now()
        incident_id = await anyio.to_thread.run_sync(store_location, row, body, now)
        relocated = None
        if incident_id is not None:
            command = Command(
                id=f"cmd-{uuid.uuid4().hex[:16]}",
                at=now,
                actor=f"caller-media:{row.created_by}"[:80],
                action=CommandAction.RELOCATE,
                incident_id=incident_id,
                lat=body.lat,
                lon=body.lon,
                note=f"caller phone GPS ±{body.accuracy_m:.0f} m (발신자 휴대폰 위치, {row.id})",
            )
            try:
                await publish_record(publisher, topics.COMMANDS, command, key=incident_id)
                relocated = command.id
            except BrokerError:
                relocated = None  # the fix is stored; the next better one tries again
        return {"ok": True, "relocate_command_id": relocated}

    @app.post("/m/api/photo", include_in_schema=False, status_code=201)
    async def caller_photo(
        request: Request, data: Annotated[bytes, Body(media_type="image/jpeg")]
    ) -> dict[str, Any]:
        kind = _image(data, request.headers.get("content-type", ""))
        row = await anyio.to_thread.run_sync(caller_row, request)

        def save() -> dict[str, Any]:
            with sessions() as session:
                incident_id = incident_of_call(session, row.call_id)
            return store_snapshot(row, incident_id, data, kind, "caller", f"caller:{row.id}")

        saved = await anyio.to_thread.run_sync(save)
        await anyio.to_thread.run_sync(audit_caller, row.id, request, 201)
        return saved

    @app.post("/m/api/recording", include_in_schema=False, status_code=201)
    async def caller_recording(
        request: Request, data: Annotated[bytes, Body(media_type="video/webm")]
    ) -> dict[str, Any]:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "video/webm":
            raise HTTPException(415, "content-type must be video/webm")
        if not data or len(data) > MAX_RECORDING_CHUNK_BYTES:
            raise HTTPException(413, f"a piece must be 1..{MAX_RECORDING_CHUNK_BYTES} bytes")
        row = await anyio.to_thread.run_sync(caller_row, request)
        if not row.recording:
            raise HTTPException(409, "recording is off (a supervisor turns it on)")

        def save() -> int:
            with writes() as session, session.begin():
                incident_id = incident_of_call(session, row.call_id)
                piece = MediaRecordingRow(
                    link_id=row.id,
                    incident_id=incident_id,
                    at=clock.now(),
                    content_type=kind,
                    data=data,
                )
                session.add(piece)
                session.flush()
                return piece.seq

        return {"seq": await anyio.to_thread.run_sync(save)}

    @app.post("/m/api/end", include_in_schema=False)
    def caller_end(request: Request) -> dict[str, Any]:
        row = caller_row(request)
        with writes() as session, session.begin():
            stored = session.get(MediaLinkRow, row.id)
            if stored is not None and stored.ended_at is None:
                stored.ended_at = clock.now()
        hub.end(row.id)
        audit_caller(row.id, request, 200)
        return {"ok": True}
