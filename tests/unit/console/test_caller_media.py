"""Caller media links: single use, expiry, forgery, who may watch, when the incident moves."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from gt_published import sent
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from console.caller_media import digest
from console.caller_media_store import MediaLinkRow
from dispatch.incident_store import CallRow, IncidentRow, UnitRow
from goldentime.contracts.dispatch import Command, CommandAction
from goldentime.db import make_engine, session_factory

from .conftest import NOW, SecuredConsole

CALL = "call-cm-1"
INCIDENT = "INC-cm-1"


@pytest.fixture
def console(secured: SecuredConsole, tmp_path: Path) -> SecuredConsole:
    """The secured console with one stored call (and its incident) and crew unit U-1."""
    sessions = session_factory(make_engine(f"sqlite:///{tmp_path / 'gt.db'}"))
    with sessions.begin() as session:
        session.add(
            IncidentRow(
                id=INCIDENT,
                type="building_fire",
                status="open",
                lat=37.57,
                lon=126.983,
                created_at=NOW,
                updated_at=NOW,
                last_activity_at=NOW,
                cell="c",
            )
        )
        session.add(
            CallRow(
                id=CALL,
                incident_id=INCIDENT,
                received_at=NOW,
                lat=37.57,
                lon=126.983,
                type="building_fire",
                caller="010-5555-0119",
                source="api",
                link_reason="new",
                payload={},
            )
        )
        session.add(
            UnitRow(
                id="U-1",
                station_id="S",
                station_name="S",
                name="U-1",
                kind="engine",
                status="available",
                lat=37.5,
                lon=126.9,
                home_lat=37.5,
                home_lon=126.9,
                updated_at=NOW,
            )
        )
    secured.app.state.test_sessions = sessions
    return secured


def new_link(console: SecuredConsole) -> str:
    response = console.sign_in("disp").post(f"/api/calls/{CALL}/media-link", json={})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"url", "expires_at", "sms_status"}
    return str(body["url"]).split("/m/", 1)[1]


def phone(console: SecuredConsole) -> TestClient:
    return TestClient(console.app, base_url="http://testserver")


def link_row(console: SecuredConsole) -> MediaLinkRow:
    sessions: sessionmaker[Session] = console.app.state.test_sessions
    with sessions() as session:
        row = session.scalars(select(MediaLinkRow).where(MediaLinkRow.call_id == CALL)).one()
        session.expunge(row)
        return row


def test_only_the_digest_is_stored_and_the_link_is_single_use(console: SecuredConsole) -> None:
    token = new_link(console)
    row = link_row(console)
    assert row.token_digest == digest(token) and token not in row.token_digest
    first = phone(console)
    assert first.get(f"/m/{token}").status_code == 200
    claimed = first.post("/m/api/claim", json={"token": token})
    assert claimed.status_code == 200, claimed.text
    assert first.post("/m/api/poll", json={"camera": True}).status_code == 200
    assert first.get(f"/m/{token}").status_code == 200  # the same phone may reload

    second = phone(console)
    page = second.get(f"/m/{token}")
    assert page.status_code == 410
    assert "이미 다른 기기에서" in page.text and "already opened" in page.text
    refused = second.post("/m/api/claim", json={"token": token})
    assert refused.status_code == 410 and refused.json()["refused"] == "used"
    assert second.post("/m/api/poll", json={}).status_code == 401
    assert link_row(console).session_digest == row.session_digest or row.session_digest is None
    after = link_row(console)
    assert after.claimed_at is not None


def test_an_expired_link_is_refused_and_nothing_changes(console: SecuredConsole) -> None:
    token = new_link(console)
    console.clock.advance(601)
    caller = phone(console)
    page = caller.get(f"/m/{token}")
    assert page.status_code == 410 and "만료" in page.text and "expired" in page.text
    assert caller.post("/m/api/claim", json={"token": token}).status_code == 410
    row = link_row(console)
    assert row.claimed_at is None and row.session_digest is None
    media = console.sign_in("disp").get(f"/api/calls/{CALL}/media").json()
    assert media["state"] == "ended" and media["location"] is None


@pytest.mark.parametrize("token", ["A" * 43, "short", "x" * 43 + "%00", "Z" * 150])
def test_a_forged_link_is_refused(console: SecuredConsole, token: str) -> None:
    real = new_link(console)
    caller = phone(console)
    assert caller.get(f"/m/{token}").status_code == 404
    assert caller.post("/m/api/claim", json={"token": token}).status_code == 404
    assert link_row(console).claimed_at is None
    assert real != token


def test_who_may_watch_a_callers_stream(console: SecuredConsole) -> None:
    new_link(console)
    path = f"/api/calls/{CALL}/media"
    assert console.sign_in("disp").get(path).status_code == 200
    assert console.sign_in("super").get(path).status_code == 200
    assert console.sign_in("adm").get(path).status_code == 403
    crew = console.sign_in("crew1")
    refused = crew.get(path)
    assert refused.status_code == 403 and INCIDENT in refused.text
    assert crew.post(f"{path}/watch").status_code == 403
    with console.app.state.test_sessions.begin() as session:
        session.get(UnitRow, "U-1").incident_id = INCIDENT
    assert crew.get(path).status_code == 200
    assert crew.post(f"{path}/watch").status_code == 200
    assert crew.post(f"/api/calls/{CALL}/media-link", json={}).status_code == 403
    assert crew.post(f"{path}/recording", json={"on": True}).status_code == 403
    assert console.sign_in("disp").post(f"{path}/recording", json={"on": True}).status_code == 403
    allowed = console.sign_in("super").post(f"{path}/recording", json={"on": True})
    assert allowed.status_code == 200 and link_row(console).recording is True


def relocations(console: SecuredConsole) -> list[Command]:
    return [
        r
        for _topic, r, _key in sent(console.publisher)
        if isinstance(r, Command) and r.action is CommandAction.RELOCATE
    ]


def test_a_more_accurate_fix_moves_the_incident_through_a_command(
    console: SecuredConsole,
) -> None:
    token = new_link(console)
    caller = phone(console)
    assert caller.post("/m/api/claim", json={"token": token}).status_code == 200
    fix = {"lat": 37.5712, "lon": 126.9845}
    assert caller.post("/m/api/location", json={**fix, "accuracy_m": 500}).status_code == 200
    assert relocations(console) == []  # worse than the call's assumed 300 m
    assert caller.post("/m/api/location", json={**fix, "accuracy_m": 12}).status_code == 200
    assert caller.post("/m/api/location", json={**fix, "accuracy_m": 11}).status_code == 200
    (moved,) = relocations(console)
    assert (moved.incident_id, moved.lat, moved.lon) == (INCIDENT, fix["lat"], fix["lon"])
    assert "±12 m" in moved.note and moved.actor == "caller-media:disp"
    assert caller.post("/m/api/location", json={**fix, "accuracy_m": 5}).status_code == 200
    assert len(relocations(console)) == 2
    media = console.sign_in("disp").get(f"/api/calls/{CALL}/media").json()
    assert media["location"]["accuracy_m"] == 5
    bad = caller.post("/m/api/location", json={"lat": 91, "lon": 0, "accuracy_m": 5})
    assert bad.status_code == 422


def test_caller_photos_and_console_snapshots_stay_with_the_incident(
    console: SecuredConsole,
) -> None:
    token = new_link(console)
    caller = phone(console)
    caller.post("/m/api/claim", json={"token": token})
    jpeg = b"\xff\xd8\xff\xe0" + b"0" * 100
    sent = caller.post("/m/api/photo", content=jpeg, headers={"content-type": "image/jpeg"})
    assert sent.status_code == 201, sent.text
    fake = caller.post("/m/api/photo", content=b"GIF89a", headers={"content-type": "image/jpeg"})
    assert fake.status_code == 422
    dispatcher = console.sign_in("disp")
    taken = dispatcher.post(
        f"/api/calls/{CALL}/media/snapshots", content=jpeg, headers={"content-type": "image/jpeg"}
    )
    assert taken.status_code == 201, taken.text
    snaps = dispatcher.get(f"/api/calls/{CALL}/media").json()["snapshots"]
    assert [s["source"] for s in snaps] == ["caller", "console"]
    assert dispatcher.get(snaps[0]["url"]).content == jpeg
    assert caller.post("/m/api/end").status_code == 200
    assert caller.post("/m/api/poll", json={}).status_code == 401
    assert dispatcher.get(f"/api/calls/{CALL}/media").json()["state"] == "ended"


def test_no_link_for_a_closed_incident_or_an_unknown_call(console: SecuredConsole) -> None:
    dispatcher = console.sign_in("disp")
    assert dispatcher.post("/api/calls/call-none/media-link", json={}).status_code == 404
    bad = dispatcher.post(f"/api/calls/{CALL}/media-link", json={"phone": "call me"})
    assert bad.status_code == 422 and "phone" in bad.text
    with console.app.state.test_sessions.begin() as session:
        session.get(IncidentRow, INCIDENT).status = "closed"
    refused = dispatcher.post(f"/api/calls/{CALL}/media-link", json={})
    assert refused.status_code == 409 and "closed" in refused.text


def test_recording_only_when_a_supervisor_allows_it_and_kept_for_the_retention_period(
    console: SecuredConsole,
) -> None:
    token = new_link(console)
    caller = phone(console)
    assert caller.post("/m/api/claim", json={"token": token}).status_code == 200
    assert caller.post("/m/api/poll", json={"camera": True}).json()["recording"] is False
    piece = b"\x1a\x45\xdf\xa3" + b"w" * 64
    webm = {"content-type": "video/webm"}
    off = caller.post("/m/api/recording", content=piece, headers=webm)
    assert off.status_code == 409 and "supervisor" in off.text
    supervisor = console.sign_in("super")
    path = f"/api/calls/{CALL}/media/recording"
    assert supervisor.get(path).status_code == 404
    assert supervisor.post(path, json={"on": True}).status_code == 200
    assert caller.post("/m/api/poll", json={"camera": True}).json()["recording"] is True
    for _ in range(2):
        assert caller.post("/m/api/recording", content=piece, headers=webm).status_code == 201
    assert caller.post("/m/api/recording", content=piece, headers={}).status_code == 415
    media = supervisor.get(f"/api/calls/{CALL}/media").json()
    assert media["recording"] is True and media["recording_chunks"] == 2
    assert supervisor.get(path).content == piece * 2
    assert console.sign_in("crew1").get(path).status_code == 403

    # 30 days later (the default retention) and an hour for the sweep: deleted.
    console.clock.advance(30 * 86400 + 3600)
    sweep = console.app.state.caller_media_purge
    assert sweep(force=True) == 2
    assert supervisor.get(path).status_code == 404
