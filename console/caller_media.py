"""Caller media links and live sessions: tokens, claims, caller sessions, WebRTC signalling.

A link is ``/m/<token>``: the token is ``secrets.token_urlsafe(32)`` (256 bits), only its
SHA-256 digest is stored, it is bound to one call, expires after a configured number of
minutes and is single use: the first browser that opens it claims it and receives a caller
session cookie; any other opening is refused. The WebRTC offer/answer exchange goes through
:class:`SignalHub` (in memory of the console process: signalling is ephemeral, the record of
what happened is in the database and the audit log).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.caller_media_store import MediaLinkRow
from goldentime.errors import GoldenTimeError

TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
CALLER_SESSION_MAX = timedelta(hours=2)  # a claimed session outlives the link's few minutes
LIVE_WITHIN_S = 10.0  # the caller page polls every 0.25 s: silent this long means gone
MAX_VIEWERS = 8
VIEWER_IDLE_S = 10.0  # a viewer that stopped asking for its offer this long ago is gone

Refusal = Literal["unknown", "expired", "used", "ended"]
MediaState = Literal["waiting", "live", "ended"]


class LinkRefusedError(GoldenTimeError):
    """A caller link that cannot be opened: unknown (forged), expired, already used, ended."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(f"caller media link refused: {reason}")
        self.reason: Refusal = reason


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_link(
    session: Session,
    *,
    call_id: str,
    created_by: str,
    now: datetime,
    ttl_s: int,
    phone: str | None,
    call_accuracy_m: float,
) -> tuple[str, MediaLinkRow]:
    """A new link for ``call_id``: returns the token (never stored) and its row."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = MediaLinkRow(
        id=f"ml-{uuid.uuid4().hex[:20]}",
        call_id=call_id,
        token_digest=digest(token),
        created_at=now,
        created_by=created_by,
        expires_at=now + timedelta(seconds=ttl_s),
        phone=phone,
        sms_status="pending",
        best_accuracy_m=call_accuracy_m,
        recording=False,
    )
    session.add(row)
    return token, row


def find_link(session: Session, token: str) -> MediaLinkRow:
    """The link of ``token``, or :class:`LinkRefusedError` ``unknown`` for anything forged."""
    if not TOKEN_PATTERN.match(token):
        raise LinkRefusedError("unknown")
    row = session.scalars(
        select(MediaLinkRow).where(MediaLinkRow.token_digest == digest(token))
    ).first()
    if row is None:
        raise LinkRefusedError("unknown")
    return row


def session_matches(row: MediaLinkRow, cookie: str | None, *, now: datetime) -> bool:
    """True when ``cookie`` (``<link id>.<secret>``) is this link's live caller session."""
    if not cookie or row.session_digest is None or row.claimed_at is None:
        return False
    link_id, _, secret = cookie.partition(".")
    if link_id != row.id or not secret:
        return False
    if row.ended_at is not None or now - row.claimed_at > CALLER_SESSION_MAX:
        return False
    return secrets.compare_digest(digest(secret), row.session_digest)


def check_openable(row: MediaLinkRow, cookie: str | None, *, now: datetime) -> None:
    """Raise unless the link may be opened now (unclaimed and unexpired, or this caller's)."""
    if session_matches(row, cookie, now=now):
        return
    if row.ended_at is not None:
        raise LinkRefusedError("ended")
    if row.claimed_at is not None:
        raise LinkRefusedError("used")
    if now >= row.expires_at:
        raise LinkRefusedError("expired")


def claim(session: Session, token: str, cookie: str | None, *, now: datetime) -> tuple[str, bool]:
    """Claim the link of ``token`` for this browser: ``(cookie value, newly claimed)``.

    Run in a write transaction (``BEGIN IMMEDIATE`` on SQLite): two browsers racing for one
    link cannot both claim it.
    """
    row = find_link(session, token)
    check_openable(row, cookie, now=now)
    if cookie and session_matches(row, cookie, now=now):
        return cookie, False
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    row.claimed_at = now
    row.session_digest = digest(secret)
    return f"{row.id}.{secret}", True


def caller_link(session: Session, cookie: str | None, *, now: datetime) -> MediaLinkRow | None:
    """The link whose live caller session ``cookie`` is, or None."""
    if not cookie:
        return None
    row = session.get(MediaLinkRow, cookie.partition(".")[0])
    if row is None or not session_matches(row, cookie, now=now):
        return None
    return row


def latest_link(session: Session, call_id: str) -> MediaLinkRow | None:
    return session.scalars(
        select(MediaLinkRow)
        .where(MediaLinkRow.call_id == call_id)
        .order_by(MediaLinkRow.created_at.desc())
        .limit(1)
    ).first()


def media_state(row: MediaLinkRow, *, now: datetime, live: bool) -> MediaState:
    """``live`` while the claimed caller page is connected; ``ended`` once it left, was
    ended, or the link expired unopened; ``waiting`` before that."""
    if row.ended_at is not None:
        return "ended"
    if row.claimed_at is None:
        return "ended" if now >= row.expires_at else "waiting"
    if live:
        return "live"
    return "ended" if now - row.claimed_at > timedelta(seconds=60) else "waiting"


@dataclass
class Viewer:
    id: str
    user: str
    created: float
    seen: float = 0.0  # when the viewer last asked for its offer
    offer: str | None = None
    answer: str | None = None
    answer_sent: bool = False


@dataclass
class LiveSession:
    last_seen: float = 0.0
    camera: bool = False
    recording: bool = False
    viewers: dict[str, Viewer] = field(default_factory=dict)


class SignalError(GoldenTimeError):
    """A signalling message that does not fit the session (unknown viewer, full, too late)."""


class SignalHub:
    """Offer/answer exchange between one caller page and the console pages watching it.

    Each viewer (a dispatcher's panel) asks to watch; the caller page sees the request on its
    next poll, makes one peer connection per viewer and posts its offer (ICE candidates
    gathered, no trickle); the viewer posts its answer, which the caller fetches.
    """

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, LiveSession] = {}
        self._now = monotonic

    def _session(self, link_id: str) -> LiveSession:
        return self._sessions.setdefault(link_id, LiveSession())

    def is_live(self, link_id: str) -> bool:
        with self._lock:
            found = self._sessions.get(link_id)
            return bool(found and found.camera and self._now() - found.last_seen < LIVE_WITHIN_S)

    def set_recording(self, link_id: str, on: bool) -> None:
        with self._lock:
            self._session(link_id).recording = on

    def caller_poll(self, link_id: str, *, camera: bool) -> dict[str, Any]:
        """The caller page's heartbeat: viewers waiting for an offer, answers to apply,
        whether to record."""
        with self._lock:
            live = self._session(link_id)
            now = self._now()
            live.last_seen, live.camera = now, camera
            for gone in [
                v.id
                for v in live.viewers.values()
                if v.answer is None and now - max(v.seen, v.created) > VIEWER_IDLE_S
            ]:
                del live.viewers[gone]
            wanting = [{"viewer_id": v.id} for v in live.viewers.values() if v.offer is None]
            answers = []
            for v in live.viewers.values():
                if v.answer is not None and not v.answer_sent:
                    answers.append({"viewer_id": v.id, "sdp": v.answer})
                    v.answer_sent = True
            return {"viewers": wanting, "answers": answers, "recording": live.recording}

    def watch(self, link_id: str, *, user: str) -> str:
        with self._lock:
            live = self._session(link_id)
            if len(live.viewers) >= MAX_VIEWERS:
                oldest = min(live.viewers.values(), key=lambda v: v.created)
                del live.viewers[oldest.id]
            now = self._now()
            viewer = Viewer(id=f"v-{secrets.token_hex(8)}", user=user, created=now, seen=now)
            live.viewers[viewer.id] = viewer
            return viewer.id

    def _viewer(self, link_id: str, viewer_id: str) -> Viewer:
        found = self._sessions.get(link_id)
        viewer = found.viewers.get(viewer_id) if found else None
        if viewer is None:
            raise SignalError(f"no viewer {viewer_id} on this session")
        return viewer

    def offer(self, link_id: str, viewer_id: str, sdp: str) -> None:
        with self._lock:
            self._viewer(link_id, viewer_id).offer = sdp

    def viewer_poll(self, link_id: str, viewer_id: str, *, user: str) -> str | None:
        with self._lock:
            viewer = self._viewer(link_id, viewer_id)
            if viewer.user != user:
                raise SignalError(f"viewer {viewer_id} belongs to another user")
            viewer.seen = self._now()
            return viewer.offer

    def answer(self, link_id: str, viewer_id: str, sdp: str, *, user: str) -> None:
        with self._lock:
            viewer = self._viewer(link_id, viewer_id)
            if viewer.user != user:
                raise SignalError(f"viewer {viewer_id} belongs to another user")
            viewer.answer, viewer.answer_sent = sdp, False

    def end(self, link_id: str) -> None:
        with self._lock:
            self._sessions.pop(link_id, None)
