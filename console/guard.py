"""The ASGI middleware that authenticates every request and enforces the route policy.

Order of decisions: public path -> pass; credentials (bearer token, session cookie, or the
demo user) -> else 401 (or a redirect to /login for pages); CSRF for state-changing session
requests -> else 403; the route's roles (:data:`console.roles.ROUTE_ROLES`) -> else 403.
State-changing requests are written to the audit log with the user and the time.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import TYPE_CHECKING
from urllib.parse import quote

import anyio.to_thread
from fastapi import HTTPException
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.auth import CSRF_HEADER, SESSION_COOKIE, AuthConfig, SessionSigner
from console.roles import DEMO_PRINCIPAL, Principal, allowed_roles, is_public
from goldentime.clock import Clock

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # console.accounts registers tables: imported after create_schema (app.py)
    from console.accounts import Accounts

PRINCIPAL_KEY = "goldentime.principal"
COMMAND_ID_KEY = "goldentime.command_id"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PAGES = frozenset({"/", "/crew", "/supervisor/alerts"})
_DEMO_ACTOR = re.compile(r"^[A-Za-z0-9._@-]{1,80}$")


class AccessGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        router: Router,
        config: AuthConfig,
        signer: SessionSigner,
        accounts: Accounts,
        clock: Clock,
    ) -> None:
        self.app = app
        self.router = router
        self.config = config
        self.signer = signer
        self.accounts = accounts
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        path = scope["path"]
        if is_public(method, path):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        principal, problem = await anyio.to_thread.run_sync(self._authenticate, conn)
        if principal is None:
            await self._unauthenticated(scope, conn, problem)(scope, receive, send)
            return
        if method not in SAFE_METHODS and principal.via == "session":
            sent = conn.headers.get(CSRF_HEADER, "")
            if not principal.csrf_token or not secrets.compare_digest(sent, principal.csrf_token):
                await _deny(403, "missing or wrong CSRF token (X-CSRF-Token)")(scope, receive, send)
                return
        template = self._route_template(scope)
        if template is not None and not principal.may(allowed_roles(method, template)):
            roles = ",".join(sorted(principal.roles))
            detail = f"{principal.name} ({roles}) may not {method} {template}"
            await _deny(403, detail)(scope, receive, send)
            return
        scope[PRINCIPAL_KEY] = principal
        if method in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        await self._audited(scope, receive, send, principal)

    def _authenticate(self, conn: HTTPConnection) -> tuple[Principal | None, str]:
        authorization = conn.headers.get("authorization", "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None, "Authorization must be 'Bearer <token>'"
            account = self.accounts.by_token(token.strip())
            if account is None:
                return None, "unknown or revoked API token"
            return account.principal(via="token"), ""
        cookie = conn.cookies.get(SESSION_COOKIE)
        if cookie:
            session = self.signer.read(cookie)
            account = self.accounts.get(session.user) if session else None
            if session is not None and account is not None and not account.disabled:
                return account.principal(via="session", csrf_token=session.csrf), ""
            if not self.config.demo:
                return None, "session expired or invalid; sign in again"
        if self.config.demo:
            actor = conn.headers.get("x-goldentime-user", "")
            if actor and _DEMO_ACTOR.match(actor):
                # Demo only: nothing is authenticated, so the client may name the actor.
                return Principal(name=actor, roles=DEMO_PRINCIPAL.roles, via="demo"), ""
            return DEMO_PRINCIPAL, ""
        return None, "sign in first (session cookie) or send an API token"

    def _route_template(self, scope: Scope) -> str | None:
        """The matched route's path template, or None when no route matches (404/405)."""
        return matched_template(self.router, scope)

    def _unauthenticated(self, scope: Scope, conn: HTTPConnection, problem: str) -> Response:
        if scope.get("method") == "GET" and scope["path"] in PAGES:
            target = scope["path"] + (f"?{conn.url.query}" if conn.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        response = _deny(401, problem)
        response.headers["WWW-Authenticate"] = 'Bearer realm="goldentime"'
        return response

    async def _audited(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal
    ) -> None:
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            try:
                await anyio.to_thread.run_sync(self._write_audit, scope, principal, status)
            except SQLAlchemyError as err:  # the answer is sent; a database outage is logged
                log.warning(
                    "audit not recorded (%s %s %s by %s): %s",
                    scope.get("method", ""),
                    scope["path"],
                    status,
                    principal.name,
                    err,
                )

    def _write_audit(self, scope: Scope, principal: Principal, status: int) -> None:
        self.accounts.audit(
            at=self.clock.now(),
            principal=principal,
            method=scope.get("method", ""),
            path=scope["path"],
            status=status,
            command_id=scope.get(COMMAND_ID_KEY),
        )


def flat_routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    """Routes with included routers expanded (FastAPI keeps an ``include_router`` as one
    node); the console includes routers without a prefix, so child paths are full paths."""
    found: list[BaseRoute] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is None:
            found.append(route)
            continue
        prefix = getattr(getattr(route, "include_context", None), "prefix", "")
        if prefix:
            raise ValueError(f"console routers are included without a prefix, not {prefix!r}")
        found.extend(flat_routes(list(inner.routes)))
    return found


def matched_template(router: Router, scope: Scope) -> str | None:
    """The path template of the route matching ``scope`` (full match first), or None."""
    routes = flat_routes(list(router.routes))
    for wanted in (Match.FULL, Match.PARTIAL):
        for route in routes:
            match, _child = route.matches(scope)
            if match == wanted:
                return str(getattr(route, "path", scope["path"]))
    return None


def _deny(status: int, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail})


def current_principal(request: Request) -> Principal:
    """The signed-in user of this request (FastAPI dependency)."""
    value = request.scope.get(PRINCIPAL_KEY)
    if not isinstance(value, Principal):
        raise HTTPException(401, "sign in first")
    return value


def note_command(request: Request, command_id: str) -> None:
    """Tie the audit record of this request to the command it sent."""
    request.scope[COMMAND_ID_KEY] = command_id
