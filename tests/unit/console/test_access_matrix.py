"""Every route x every role (and anonymous), with authentication required: deny by default."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from console.roles import ROUTE_ROLES, Role, allowed_roles, is_public

from .conftest import ROLE_USERS, SecuredConsole

SAMPLE_BODIES = {
    "/api/calls": {"lat": 37.57, "lon": 126.98, "type": "fire"},
    "/api/units/{unit_id}/status": {"status": "en_route"},
    "/api/units/{unit_id}/position": {"lat": 37.57, "lon": 126.98},
    "/api/incidents/{incident_id}/merge": {"into_incident_id": "INC-2"},
}
DENIED = {401, 403}


def concrete(path: str) -> str:
    # the crew user rides U-1, so unit routes use U-1 (a crew may act for its own unit)
    return re.sub(r"\{(\w+)\}", lambda m: "U-1" if m.group(1) == "unit_id" else "X-1", path)


def endpoints(secured: SecuredConsole) -> list[tuple[str, str]]:
    found = []
    for route in secured.app.routes:
        if isinstance(route, Mount):
            continue
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
        if is_public(method, path):
            assert response.status_code not in DENIED, (role, method, path)
        elif role is None:
            expected = {303} if path in {"/", "/crew"} else {401}
            assert response.status_code in expected, (method, path, response.status_code)
        elif role in allowed_roles(method, path):
            assert response.status_code not in DENIED, (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)


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
