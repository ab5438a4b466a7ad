"""The console's MCI routes: who may send which command, what the command carries, the
surge banners (GET /api/surges and the change feed's ``surges`` event)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from gt_published import sent

from console.live import ChangeFeed
from dispatch.catalog import load_catalog
from dispatch.correlate import Signal
from dispatch.intake import ingest
from goldentime.contracts import IncidentType
from goldentime.contracts.dispatch import Command, CommandAction, TriageCounts
from goldentime.db import create_schema, make_engine, session_factory, writer

from .conftest import NOW, SecuredConsole

MCI = "/api/incidents/INC-1/mci"


def sent_commands(secured: SecuredConsole) -> list[Command]:
    return [r for topic, r, _key in sent(secured.publisher) if isinstance(r, Command)]


def test_only_a_supervisor_confirms_a_response_level(secured: SecuredConsole) -> None:
    dispatcher = secured.sign_in("disp")
    refused = dispatcher.post(f"{MCI}/level", json={"level": 2})
    assert refused.status_code == 403
    assert "may not POST /api/incidents/{incident_id}/mci/level" in refused.json()["detail"]
    assert sent_commands(secured) == [], "nothing sent for a refused confirmation"
    for name in ("crew1", "adm"):
        assert secured.sign_in(name).post(f"{MCI}/level", json={"level": 2}).status_code == 403

    supervisor = secured.sign_in("super")
    accepted = supervisor.post(f"{MCI}/level", json={"level": 2, "id": "cmd-level-1"})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["command_id"] == "cmd-level-1"
    [command] = sent_commands(secured)
    assert command.action is CommandAction.MCI_LEVEL
    assert (command.incident_id, command.level, command.actor) == ("INC-1", 2, "super")


@pytest.mark.parametrize("level", [0, 4, "two", None])
def test_a_level_outside_1_to_3_is_refused_naming_the_field(
    secured: SecuredConsole, level: Any
) -> None:
    r = secured.sign_in("super").post(f"{MCI}/level", json={"level": level})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "level"]


def test_triage_staging_and_distribute_are_control_room_commands(
    secured: SecuredConsole,
) -> None:
    assert secured.sign_in("crew1").post(f"{MCI}/triage", json={"red": 1}).status_code == 403
    assert secured.client.post(f"{MCI}/distribute", json={}).status_code == 401
    dispatcher = secured.sign_in("disp")
    counts = {"red": 3, "yellow": 5, "green": 8, "black": 1}
    assert dispatcher.post(f"{MCI}/triage", json=counts).status_code == 202
    assert (
        dispatcher.post(f"{MCI}/staging", json={"lat": 37.535, "lon": 126.994}).status_code == 202
    )
    assert dispatcher.post(f"{MCI}/distribute", json={}).status_code == 202
    triage, staging, distribute = sent_commands(secured)
    assert triage.action is CommandAction.TRIAGE
    assert triage.triage == TriageCounts(**counts)
    assert (staging.action, staging.lat, staging.lon) == (CommandAction.STAGING, 37.535, 126.994)
    assert (distribute.action, distribute.incident_id) == (CommandAction.DISTRIBUTE, "INC-1")
    assert {c.actor for c in (triage, staging, distribute)} == {"disp"}
    keys = {key for _topic, r, key in sent(secured.publisher) if isinstance(r, Command)}
    assert keys == {"INC-1"}, "keyed by incident: applied in order with its other commands"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"red": -1}, "red"),
        ({"green": 10_001}, "green"),
        ({"yellow": 2, "white": 1}, "white"),
    ],
)
def test_bad_triage_counts_are_refused_naming_the_field(
    secured: SecuredConsole, body: dict[str, Any], field: str
) -> None:
    r = secured.sign_in("disp").post(f"{MCI}/triage", json=body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == field
    assert sent_commands(secured) == []


def test_a_bad_incident_id_is_a_422_not_a_500(secured: SecuredConsole) -> None:
    r = secured.sign_in("super").post("/api/incidents/:/mci/level", json={"level": 1})
    assert r.status_code == 422


def test_surges_route_answers_for_the_control_room_only(secured: SecuredConsole) -> None:
    board = secured.sign_in("disp").get("/api/surges")
    assert board.status_code == 200
    assert board.json()["surges"] == []
    assert secured.sign_in("crew1").get("/api/surges").status_code == 403


def test_surges_route_lists_active_surges_with_their_banner(
    secured: SecuredConsole, tmp_path: Path
) -> None:
    from dispatch.mci_store import MciRow

    sessions = session_factory(writer(make_engine(f"sqlite:///{tmp_path / 'gt.db'}")))
    signal = Signal(id="c-1", kind="call", at=NOW, lat=37.5345, lon=126.9945, type=IncidentType.EMS)
    live = ingest(sessions, [signal], now=NOW, catalog=load_catalog()).incidents[0].id
    fire = Signal(id="c-2", kind="call", at=NOW, lat=37.60, lon=127.05, type=IncidentType.FIRE)
    ordinary = ingest(sessions, [fire], now=NOW, catalog=load_catalog()).incidents[0].id
    with sessions.begin() as s:
        s.add(
            MciRow(
                incident_id=live, lat=37.5345, lon=126.9945, radius_m=180.0, calls_in_window=12,
                window_s=600.0, place="", first_at=NOW - timedelta(minutes=8),
                last_at=NOW - timedelta(minutes=1), calls=12, casualty_estimate=15,
                casualty_reason="", proposed_level=2, proposed_reason="", proposed_at=NOW,
                created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
    dispatcher = secured.sign_in("disp")
    listed = {i["id"]: i["mci_level"] for i in dispatcher.get("/api/incidents").json()}
    assert listed == {live: {"proposed": 2, "confirmed": None}, ordinary: None}, "queue badges"
    assert dispatcher.get(f"/api/incidents/{live}").json()["mci_level"] == listed[live]
    [surge] = dispatcher.get("/api/surges").json()["surges"]
    assert surge["incident_id"] == live
    assert surge["calls_in_window"] == 12
    assert surge["banner"] == f"12 calls in 10 min at {surge['place']}"
    assert "동" in surge["place"], "named by its dong"
    secured.clock.advance(600)  # its last call is now 11 min old: past its 10 min window
    assert dispatcher.get("/api/surges").json()["surges"] == []


def test_change_feed_sends_the_surges_when_they_change(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    surge = {
        "incident_id": "INC-1",
        "calls_in_window": 5,
        "banner": "5 calls in 10 min at 이태원동",
    }
    current: list[dict[str, Any]] = []
    feed = ChangeFeed(
        session_factory(engine), surges=lambda _session: list(current), surge_refresh_s=0.0
    )
    assert feed.poll_once() == []  # the starting point
    first = feed.poll_once()
    assert [(c.kind, c.data) for c in first] == [("surges", {"surges": []})]
    current.append(surge)
    [change] = feed.poll_once()
    assert (change.kind, change.data) == ("surges", {"surges": [surge]})
    assert "event: surges" in change.sse()
    assert feed.poll_once() == [], "unchanged: not sent again"
    current.clear()
    [gone] = feed.poll_once()
    assert gone.data == {"surges": []}, "a surge that ended leaves every board"


def test_surges_are_read_again_when_an_incident_changes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    sessions = session_factory(writer(engine))
    current: list[dict[str, Any]] = []
    feed = ChangeFeed(
        session_factory(engine),
        surges=lambda _session: list(current),
        surge_refresh_s=3600.0,
        surge_min_interval_s=0.0,
    )
    assert feed.poll_once() == []
    assert [c.kind for c in feed.poll_once()] == ["surges"]  # the first read
    current.append({"incident_id": "INC-1", "banner": "5 calls in 10 min at 이태원동"})
    assert feed.poll_once() == [], "not due and nothing changed: not read"
    signal = Signal(id="c-1", kind="call", at=NOW, lat=37.5345, lon=126.9945, type=IncidentType.EMS)
    ingest(sessions, [signal], now=NOW + timedelta(seconds=1), catalog=load_catalog())
    kinds = [c.kind for c in feed.poll_once()]
    assert kinds == ["incident", "surges"], "a new call may grow a surge: read at once"
