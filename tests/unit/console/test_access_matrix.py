"""Every route x every role (and anonymous), with authentication required: deny by default."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute
from gt_published import sent
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from console.guard import PAGES, flat_routes
from console.roles import CALLER_POSTS, ROUTE_ROLES, Role, allowed_roles, is_public

from .conftest import ROLE_USERS, SecuredConsole

SAMPLE_BODIES = {
    "/api/calls": {"lat": 37.57, "lon": 126.98, "type": "fire"},
    "/api/units/{unit_id}/status": {"status": "en_route"},
    "/api/units/{unit_id}/position": {"lat": 37.57, "lon": 126.98},
    "/api/incidents/{incident_id}/merge": {"into_incident_id": "INC-2"},
    "/api/alerts": {"template": "fire_smoke", "headline_ko": "종로구 화재 연기", "gu": ["종로구"]},
    "/api/alerts/preview": {"template": "fire_smoke", "headline_ko": "화재 연기", "gu": ["중구"]},
}
DENIED = {401, 403}


def concrete(path: str) -> str:
    # the crew user rides U-1, so unit routes use U-1 (a crew may act for its own unit)
    return re.sub(r"\{(\w+)\}", lambda m: "U-1" if m.group(1) == "unit_id" else "X-1", path)


def endpoints(secured: SecuredConsole) -> list[tuple[str, str]]:
    found = []
    for route in flat_routes(list(secured.app.routes)):
        if isinstance(route, (Mount, WebSocketRoute, APIWebSocketRoute)):
            continue  # WebSockets: see test_websockets_are_listed_and_admit_only_partners
        assert isinstance(route, (APIRoute, Route))
        for method in sorted(route.methods or []):
            if method != "HEAD":
                found.append((method, route.path))
    return sorted(found, key=lambda e: e[1] == "/logout")  # sign out last


def call(client, method: str, path: str):  # type: ignore[no-untyped-def]
    url = concrete(path)
    if method == "GET":
        if path == "/api/stream":
            return None  # an endless stream: checked separately below
        return client.get(url, follow_redirects=False)
    return client.post(url, json=SAMPLE_BODIES.get(path, {}), follow_redirects=False)


def test_every_route_is_public_or_has_a_policy(secured: SecuredConsole) -> None:
    for method, path in endpoints(secured):
        assert is_public(method, path) or (method, path) in ROUTE_ROLES, (method, path)
    assert set(ROUTE_ROLES) - set(endpoints(secured)) == set(), "policy names unknown routes"


@pytest.mark.parametrize("role", [None, *Role])
def test_role_matrix(secured: SecuredConsole, role: Role | None) -> None:
    client = secured.client if role is None else secured.sign_in(ROLE_USERS[role])
    for method, path in endpoints(secured):
        response = call(client, method, path)
        if response is None:
            continue
        if path == "/hooks/twilio/status":  # public, but its own check: the signature
            assert response.status_code in {403, 404}, (role, response.status_code)
            assert "signature" in response.text or "not configured" in response.text
        elif path in CALLER_POSTS:  # public, but its own check: the caller session cookie
            assert response.status_code in {401, 415, 422}, (role, path, response.status_code)
            assert response.status_code != 401 or "caller session" in response.text
        elif is_public(method, path):
            assert response.status_code not in DENIED, (role, method, path)
        elif role is None:
            expected = {303} if path in PAGES else {401}
            assert response.status_code in expected, (method, path, response.status_code)
        elif role is Role.CREW and "/media" in path and role in allowed_roles(method, path):
            assert response.status_code in {403, 404, 422}, (path, response.status_code)
            assert response.status_code != 403 or "is not on incident" in response.text
        elif role in allowed_roles(method, path):
            assert response.status_code not in DENIED, (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)


def test_websockets_are_listed_and_admit_only_partners(secured: SecuredConsole) -> None:
    sockets = [
        r.path
        for r in flat_routes(list(secured.app.routes))
        if isinstance(r, (WebSocketRoute, APIWebSocketRoute))
    ]
    assert sockets == ["/api/exchange/ws"]
    assert all(is_public("GET", path) for path in sockets)  # partners are not console users
    for headers in ({}, {"Authorization": "Bearer guessed"}):
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            secured.client.websocket_connect(sockets[0], headers=headers) as socket,
        ):
            socket.receive_text()
        assert refused.value.code == 1008
        assert refused.value.reason == "unknown or missing partner token"


def test_stream_needs_a_session(secured: SecuredConsole) -> None:
    assert secured.client.get("/api/stream").status_code == 401


def test_a_route_added_without_policy_is_denied_to_every_role(secured: SecuredConsole) -> None:
    @secured.app.get("/api/secret-new-thing")
    def new_thing() -> dict[str, str]:
        return {"leak": "yes"}

    for role in Role:
        r = secured.sign_in(ROLE_USERS[role]).get("/api/secret-new-thing")
        assert r.status_code == 403, role
    assert secured.client.get("/api/secret-new-thing").status_code == 401


def test_crew_reports_only_for_its_own_unit(secured: SecuredConsole) -> None:
    crew = secured.sign_in("crew1")
    assert crew.post("/api/units/U-1/status", json={"status": "on_scene"}).status_code == 202
    r = crew.post("/api/units/U-2/status", json={"status": "on_scene"})
    assert r.status_code == 403
    assert "U-2" in r.json()["detail"]


def test_alert_routes_are_for_supervisors_and_the_feed_is_public(secured: SecuredConsole) -> None:
    supervisor = secured.sign_in("super")
    drafted = supervisor.post("/api/alerts", json=SAMPLE_BODIES["/api/alerts"])
    assert drafted.status_code == 201, drafted.text
    assert drafted.json()["created_by"] == "super"  # the signed-in user, never a header
    assert drafted.json()["preview"]["class"] == "긴급재난"
    published = [(topic, record.id) for topic, record, _key in sent(secured.publisher)]
    assert ("alert.requests", f"{drafted.json()['id']}.drafted") in published
    dispatcher = secured.sign_in("disp")
    assert dispatcher.post("/api/alerts", json=SAMPLE_BODIES["/api/alerts"]).status_code == 403
    own = supervisor.post(f"/api/alerts/{drafted.json()['id']}/approve")
    assert own.status_code == 409 and "two-person" in own.text
    assert secured.client.get("/alerts/feed.atom").status_code == 200
    assert secured.client.get("/alerts").status_code == 200
    r = secured.client.post("/api/alerts", json=SAMPLE_BODIES["/api/alerts"])
    assert r.status_code == 401


def test_metrics_are_for_admins_and_count_routes(secured: SecuredConsole) -> None:
    secured.client.get("/api/health")
    secured.client.post("/api/calls", json=SAMPLE_BODIES["/api/calls"])  # anonymous: 401
    admin = secured.sign_in("adm")
    assert admin.post("/api/calls", json=SAMPLE_BODIES["/api/calls"]).status_code == 202
    text = admin.get("/metrics").text
    assert (
        'goldentime_console_http_requests_total{method="GET",route="/api/health",status="200"}'
        in text
    )
    assert 'route="/api/calls",status="401"' in text
    assert 'goldentime_console_intake_calls_total{outcome="accepted"} 1.0' in text
    assert secured.sign_in("super").get("/metrics").status_code == 403
    assert secured.client.get("/metrics").status_code == 401
