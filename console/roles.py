"""Who is asking: roles, the authenticated principal, and which roles may call which route.

The policy is deny by default: a route that is neither in :data:`PUBLIC` nor in
:data:`ROUTE_ROLES` is refused to everyone, whatever their roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Role(StrEnum):
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    CREW = "crew"
    ADMIN = "admin"


ALL_ROLES = frozenset(Role)
CONTROL_ROOM = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
COMMANDERS = frozenset({Role.DISPATCHER, Role.SUPERVISOR})
UNIT_REPORTERS = frozenset({Role.CREW, Role.DISPATCHER, Role.SUPERVISOR})
SUPERVISORS = frozenset({Role.SUPERVISOR})
ADMINS = frozenset({Role.ADMIN})

Via = Literal["session", "token", "demo"]


@dataclass(frozen=True)
class Principal:
    """The authenticated user of one request."""

    name: str
    roles: frozenset[Role]
    via: Via
    unit_id: str | None = None
    csrf_token: str | None = None  # set for browser sessions only

    def may(self, allowed: frozenset[Role]) -> bool:
        return bool(self.roles & allowed)

    def may_report_for(self, unit_id: str) -> bool:
        """Crews report only for their own unit; the control room for any unit."""
        return self.may(COMMANDERS) or (Role.CREW in self.roles and self.unit_id == unit_id)


DEMO_PRINCIPAL = Principal(name="demo", roles=ALL_ROLES, via="demo")

# Paths (or path prefixes ending in "/") anyone may use, signed in or not: GET/HEAD only,
# except the sign-in form and the Twilio status webhook (which verifies X-Twilio-Signature).
# /api/exchange/ws: partner centres, admitted by their own token in the endpoint (deny by default).
PUBLIC_PATHS = frozenset({"/api/health", "/login", "/alerts", "/api/exchange/ws"})
# Caller media (``/m/...``): the link page and the caller's API, authorised by the link's
# token and then the caller session cookie (console.caller_media_routes), not by a user.
CALLER_POSTS = frozenset(
    {
        "/m/api/claim",
        "/m/api/poll",
        "/m/api/offer",
        "/m/api/location",
        "/m/api/photo",
        "/m/api/recording",
        "/m/api/end",
    }
)
PUBLIC_POSTS = frozenset({"/login", "/hooks/twilio/status"}) | CALLER_POSTS
PUBLIC_PREFIXES = ("/static/", "/alerts/", "/m/")

# (method, route path template) -> roles allowed. Everything else is denied.
ROUTE_ROLES: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/"): CONTROL_ROOM,
    ("GET", "/crew"): ALL_ROLES,
    ("POST", "/logout"): ALL_ROLES,
    ("GET", "/api/me"): ALL_ROLES,
    ("GET", "/openapi.json"): ALL_ROLES,
    ("GET", "/docs"): ALL_ROLES,
    ("GET", "/docs/oauth2-redirect"): ALL_ROLES,
    ("GET", "/redoc"): ALL_ROLES,
    ("GET", "/api/stream"): ALL_ROLES,
    ("GET", "/api/basemap/gu"): ALL_ROLES,
    ("GET", "/api/basemap/roads"): ALL_ROLES,
    ("GET", "/api/basemap/network"): ALL_ROLES,
    ("GET", "/api/basemap/stations"): ALL_ROLES,
    ("POST", "/api/calls"): CONTROL_ROOM,
    ("POST", "/api/sensors/readings"): CONTROL_ROOM,
    ("GET", "/api/coverage"): CONTROL_ROOM,
    ("GET", "/api/calls/{call_id}"): CONTROL_ROOM,
    ("GET", "/api/incidents"): ALL_ROLES,
    ("GET", "/api/incidents/{incident_id}"): ALL_ROLES,
    ("GET", "/api/incidents/{incident_id}/scene"): ALL_ROLES,
    ("GET", "/api/units"): ALL_ROLES,
    # The gazetteer: call-takers placing a call, crews looking up where they are sent.
    ("GET", "/api/places"): UNIT_REPORTERS | CONTROL_ROOM,
    ("GET", "/api/commands/{command_id}"): ALL_ROLES,
    ("POST", "/api/incidents/{incident_id}/dispatch"): COMMANDERS,
    ("POST", "/api/incidents/{incident_id}/close"): COMMANDERS,
    ("POST", "/api/incidents/{incident_id}/merge"): COMMANDERS,
    ("POST", "/api/calls/{call_id}/unlink"): COMMANDERS,
    ("POST", "/api/units/{unit_id}/status"): UNIT_REPORTERS,
    ("POST", "/api/units/{unit_id}/position"): UNIT_REPORTERS,
    ("POST", "/api/units/{unit_id}/acknowledge"): UNIT_REPORTERS,
    # Surges and mass-casualty incidents: the banner and the MCI's commands for the control
    # room; confirming a response level (대응 n단계) is a supervisor's decision.
    ("GET", "/api/surges"): CONTROL_ROOM,
    ("POST", "/api/incidents/{incident_id}/mci/level"): SUPERVISORS,
    ("POST", "/api/incidents/{incident_id}/mci/triage"): COMMANDERS,
    ("POST", "/api/incidents/{incident_id}/mci/staging"): COMMANDERS,
    ("POST", "/api/incidents/{incident_id}/mci/distribute"): COMMANDERS,
    # Caller media: dispatchers send the link; viewing is checked per incident in the handler
    # (crews only for an incident their unit is assigned to); recording is a supervisor's call.
    ("POST", "/api/calls/{call_id}/media-link"): COMMANDERS,
    ("GET", "/api/calls/{call_id}/media"): UNIT_REPORTERS,
    ("GET", "/api/incidents/{incident_id}/media"): UNIT_REPORTERS,
    ("POST", "/api/calls/{call_id}/media/watch"): UNIT_REPORTERS,
    ("GET", "/api/calls/{call_id}/media/watch/{viewer_id}"): UNIT_REPORTERS,
    ("POST", "/api/calls/{call_id}/media/watch/{viewer_id}/answer"): UNIT_REPORTERS,
    ("POST", "/api/calls/{call_id}/media/snapshots"): UNIT_REPORTERS,
    ("GET", "/api/calls/{call_id}/media/snapshots/{snapshot_id}"): UNIT_REPORTERS,
    ("POST", "/api/calls/{call_id}/media/recording"): SUPERVISORS,
    ("GET", "/api/calls/{call_id}/media/recording"): COMMANDERS,
    # Public warnings: drafting, approval (by another supervisor) and cancelling.
    ("GET", "/supervisor/alerts"): SUPERVISORS,
    ("GET", "/api/alerts"): SUPERVISORS,
    ("GET", "/api/alerts/templates"): SUPERVISORS,
    ("GET", "/api/alerts/areas"): SUPERVISORS,
    ("POST", "/api/alerts/preview"): SUPERVISORS,
    ("POST", "/api/alerts"): SUPERVISORS,
    ("GET", "/api/alerts/{alert_id}/preview"): SUPERVISORS,
    ("GET", "/api/alerts/{alert_id}/deliveries"): SUPERVISORS,
    ("POST", "/api/alerts/{alert_id}/approve"): SUPERVISORS,
    ("POST", "/api/alerts/{alert_id}/cancel"): SUPERVISORS,
    # Centre-to-centre exchange (NENA EIDO); partners use /api/exchange/ws with their token.
    ("GET", "/api/exchange/eido/{incident_id}"): CONTROL_ROOM,
    ("POST", "/api/exchange/eido"): COMMANDERS,
    ("POST", "/api/exchange/validate"): CONTROL_ROOM,
    ("POST", "/api/exchange/incidents/{incident_id}/mutual-aid"): COMMANDERS,
    ("GET", "/api/exchange/requests"): CONTROL_ROOM,
    ("GET", "/api/exchange/partners"): CONTROL_ROOM,
    ("POST", "/api/exchange/requests/decline"): COMMANDERS,
    # Prometheus: admins (Prometheus scrapes with an admin account's API token).
    ("GET", "/metrics"): ADMINS,
}


def is_public(method: str, path: str) -> bool:
    if method == "POST":
        return path in PUBLIC_POSTS
    if method not in {"GET", "HEAD"}:
        return False
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def allowed_roles(method: str, template: str) -> frozenset[Role]:
    """Roles that may call ``method template``; empty (deny) for anything not listed."""
    if method == "HEAD":
        method = "GET"
    return ROUTE_ROLES.get((method, template), frozenset())


def parse_roles(text: str) -> frozenset[Role]:
    """``"dispatcher,crew"`` -> roles; raises ValueError naming an unknown role."""
    roles = set()
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        try:
            roles.add(Role(part))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"unknown role {part!r} (known: {known})") from None
    if not roles:
        raise ValueError("a user needs at least one role")
    return frozenset(roles)
