"""Security headers on every console response: CSP, framing, MIME sniffing, referrer.

The pages load only their own files (Leaflet is vendored): no inline script, no inline event
handlers, no style attributes (the scripts style through CSSOM), no framing by any site. The
one inline ``<style>`` served (the public alert page, rendered on the server so it opens on any
phone) is allowed by its SHA-256, not by ``'unsafe-inline'``. Camera snapshots come from video
relays on origins known only at run time, so images may load over http(s); an image cannot run
script. FastAPI's own ``/docs`` pages (Swagger UI, signed-in users only) get a policy of their
own: they load their script from a CDN and run one inline bootstrap.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
DOCS_CDN = "https://cdn.jsdelivr.net"


def style_hash(css: str) -> str:
    """The CSP source expression that allows exactly this inline ``<style>`` content."""
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(*, style_hashes: Iterable[str] = ()) -> str:
    """The console's CSP (every page but the API docs)."""
    styles = " ".join(["'self'", *style_hashes])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {styles}",
            "img-src 'self' data: blob: http: https:",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' {DOCS_CDN}",
        f"style-src 'self' 'unsafe-inline' {DOCS_CDN}",
        "img-src 'self' data: https://fastapi.tiangolo.com",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeaders:
    """ASGI middleware: adds the headers to every HTTP response (streams included)."""

    def __init__(self, app: ASGIApp, *, style_hashes: Iterable[str] = ()) -> None:
        self.app = app
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        policy = content_security_policy(style_hashes=style_hashes)
        self._pages = [(b"content-security-policy", policy.encode("ascii")), *common]
        self._docs = [(b"content-security-policy", DOCS_POLICY.encode("ascii")), *common]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._docs if scope.get("path") in DOCS_PATHS else self._pages

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers.extend(h for h in extra if h[0] not in names)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
