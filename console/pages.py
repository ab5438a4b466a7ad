"""Sign-in, sign-out, ``/api/me`` and the HTML pages (board, crew view), with the demo banner."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import anyio.to_thread
from fastapi import FastAPI, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.auth import SESSION_COOKIE, AuthConfig, LoginRateLimiter, SessionSigner
from console.guard import current_principal
from console.roles import Principal
from goldentime.clock import Clock

if TYPE_CHECKING:  # console.accounts registers tables: imported after create_schema (app.py)
    from console.accounts import Accounts

DEMO_BANNER = (
    '<div class="demo-banner" role="alert">DEMO — authentication off · '
    "데모 — 인증 꺼짐: anyone can act as every role</div>"
)
BANNER_SLOT = "<!--DEMO_BANNER-->"

LOGIN_PAGE = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>로그인 · Sign in — Golden Time</title>
<link rel="stylesheet" href="/static/console.css"></head>
<body class="login">{banner}
<main class="login-box"><h1>Golden Time 119</h1>
<form method="post" action="/login">
<input type="hidden" name="token" value="{token}">
<input type="hidden" name="next" value="{next}">
<label>사용자 User <input name="username" autocomplete="username" required autofocus></label>
<label>비밀번호 Password <input name="password" type="password"
 autocomplete="current-password" required></label>
<button type="submit">로그인 Sign in</button>
<p class="error" role="alert">{error}</p>
</form></main></body></html>
"""


def _safe_next(target: str) -> str:
    """Only local paths: never redirect a signed-in user to another site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _client_keys(request: Request, username: str) -> list[str]:
    host = request.client.host if request.client else "unknown"
    return [f"ip:{host}", f"user:{username.strip().lower()}"]


def add_page_routes(
    app: FastAPI,
    *,
    static_dir: Path,
    config: AuthConfig,
    signer: SessionSigner,
    accounts: Accounts,
    limiter: LoginRateLimiter,
    clock: Clock,
) -> None:
    banner = DEMO_BANNER if config.demo else ""

    def page(name: str) -> HTMLResponse:
        text = (static_dir / name).read_text(encoding="utf-8")
        return HTMLResponse(text.replace(BANNER_SLOT, banner))

    def login_page(*, next_path: str, error: str = "", code: int = 200) -> HTMLResponse:
        body = LOGIN_PAGE.format(
            banner=banner,
            token=html.escape(signer.login_token()),
            next=html.escape(_safe_next(next_path)),
            error=html.escape(error),
        )
        return HTMLResponse(body, status_code=code)

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return page("index.html")

    @app.get("/crew", include_in_schema=False)
    def crew() -> HTMLResponse:
        return page("crew.html")

    @app.get("/login", include_in_schema=False)
    def login_form(next: str = "/") -> HTMLResponse:
        return login_page(next_path=next)

    @app.post("/login", include_in_schema=False)
    async def login(
        request: Request,
        username: Annotated[str, Form(max_length=80)],
        password: Annotated[str, Form(max_length=200)],
        token: Annotated[str, Form(max_length=300)] = "",
        next: Annotated[str, Form(max_length=500)] = "/",
    ) -> Response:
        if not signer.check_login_token(token):
            return login_page(next_path=next, error="양식이 만료됨 · Form expired; retry", code=403)
        keys = _client_keys(request, username)
        now = clock.now().timestamp()
        wait = limiter.retry_after(keys, now=now)
        if wait > 0:
            response = login_page(
                next_path=next,
                error=f"시도 과다 · Too many failed sign-ins; retry in {wait:.0f} s",
                code=429,
            )
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        account = await anyio.to_thread.run_sync(accounts.verify_password, username, password)
        if account is None:
            limiter.failed(keys, now=now)
            await anyio.to_thread.run_sync(_audit_login, accounts, clock, username, 401)
            return login_page(
                next_path=next, error="사용자 또는 비밀번호 오류 · Wrong user or password", code=401
            )
        limiter.succeeded(keys)
        await anyio.to_thread.run_sync(_audit_login, accounts, clock, account.name, 303)
        value, _data = signer.issue(account.name)
        redirect = RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
        redirect.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=config.session_max_age_s,
            httponly=True,
            samesite="strict",
            secure=config.secure_cookies,
            path="/",
        )
        return redirect

    @app.post("/logout", include_in_schema=False)
    def logout() -> Response:
        response = Response(status_code=status.HTTP_204_NO_CONTENT)
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=config.secure_cookies
        )
        return response

    @app.get("/api/me", tags=["auth"])
    def me(request: Request) -> dict[str, Any]:
        """Who is signed in, their roles and unit, and the CSRF token for their requests."""
        principal = current_principal(request)
        return {
            "name": principal.name,
            "roles": sorted(principal.roles),
            "unit_id": principal.unit_id,
            "via": principal.via,
            "csrf_token": principal.csrf_token,
            "auth_mode": config.mode,
        }


def _audit_login(accounts: Accounts, clock: Clock, name: str, code: int) -> None:
    accounts.audit(
        at=clock.now(),
        principal=Principal(name=name[:80] or "?", roles=frozenset(), via="session"),
        method="POST",
        path="/login",
        status=code,
        command_id=None,
    )
