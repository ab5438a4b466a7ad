"""Authentication and authorisation of every console request (deny by default).

* Browser users sign in at ``/login`` and get a signed, HttpOnly, SameSite=Strict session
  cookie that expires; their state-changing requests must carry the session's CSRF token in
  the ``X-CSRF-Token`` header.
* Machine clients (telephony adapters) send ``Authorization: Bearer <token>``; CSRF does not
  apply to them (a browser never adds that header by itself).
* With ``GOLDENTIME_AUTH=demo`` a request without credentials acts as the built-in user
  ``demo`` holding every role, and every page shows a red banner.

The mode comes from the settings model and nowhere else (:func:`auth_config`).
"""

from __future__ import annotations

import os
import secrets
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from console.errors import AuthConfigError
from goldentime.settings import Settings

AUTH_ENV = "GOLDENTIME_AUTH"
AuthMode = Literal["required", "demo"]
SESSION_COOKIE = "gt_session"
CSRF_HEADER = "x-csrf-token"
SECRET_FILE_NAME = "console-session.key"  # noqa: S105 - a file name, not a secret


@dataclass(frozen=True)
class AuthConfig:
    """How the console authenticates. ``secret_key`` signs session cookies."""

    mode: AuthMode = "required"
    secret_key: str | None = None  # None: read or create <data_dir>/console-session.key
    session_max_age_s: int = 8 * 3600  # one shift
    secure_cookies: bool = False  # True behind HTTPS (production)
    login_max_failures: int = 5
    login_window_s: float = 300.0

    def __post_init__(self) -> None:
        if self.mode not in ("required", "demo"):
            raise AuthConfigError(f"{AUTH_ENV} must be 'required' or 'demo', not {self.mode!r}")
        if self.session_max_age_s <= 0:
            raise AuthConfigError("session_max_age_s must be positive")

    @property
    def demo(self) -> bool:
        return self.mode == "demo"


def auth_config(settings: Settings) -> AuthConfig:
    """How the console authenticates, from the settings model (``console.auth``: env
    ``GOLDENTIME_AUTH`` or ``auth`` in the TOML file's ``[console]``; ``required`` unless
    ``demo``)."""
    return AuthConfig(mode=settings.console.auth)


def load_or_create_secret(path: Path) -> str:
    """The signing key kept in ``path`` (mode 0600), created on first use."""
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    except OSError as err:
        raise AuthConfigError(f"cannot read the session key {path}: {err}") from err
    if existing:
        return existing
    key = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()  # another console process created it first
    except OSError as err:
        raise AuthConfigError(f"cannot create the session key {path}: {err}") from err
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True)
class SessionData:
    user: str
    csrf: str


class SessionSigner:
    """Signs and checks session cookie values; a value older than the max age is refused."""

    def __init__(self, secret_key: str, *, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="goldentime-session")
        self._login = URLSafeTimedSerializer(secret_key, salt="goldentime-login")
        self.max_age_s = max_age_s

    def issue(self, user: str) -> tuple[str, SessionData]:
        data = SessionData(user=user, csrf=secrets.token_urlsafe(24))
        return str(self._serializer.dumps({"u": data.user, "c": data.csrf})), data

    def read(self, value: str) -> SessionData | None:
        try:
            payload: Any = self._serializer.loads(value, max_age=self.max_age_s)
        except (SignatureExpired, BadSignature):
            return None
        if not isinstance(payload, dict):
            return None
        user, csrf = payload.get("u"), payload.get("c")
        if not isinstance(user, str) or not isinstance(csrf, str):
            return None
        return SessionData(user=user, csrf=csrf)

    def login_token(self) -> str:
        """A signed token for the login form (login CSRF), valid 30 minutes."""
        return str(self._login.dumps(secrets.token_urlsafe(16)))

    def check_login_token(self, value: str) -> bool:
        try:
            self._login.loads(value, max_age=1800)
        except (SignatureExpired, BadSignature):
            return False
        return True


class LoginRateLimiter:
    """At most ``max_failures`` failed logins per key (client address, user) per window."""

    def __init__(self, *, max_failures: int, window_s: float) -> None:
        self._max = max_failures
        self._window = window_s
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self._window:
            times.popleft()
        return times

    def retry_after(self, keys: list[str], *, now: float) -> float:
        """Seconds until a login may be tried again; 0 when allowed now."""
        wait = 0.0
        for key in keys:
            times = self._recent(key, now)
            if len(times) >= self._max:
                wait = max(wait, self._window - (now - times[0]))
        return wait

    def failed(self, keys: list[str], *, now: float) -> None:
        for key in keys:
            self._recent(key, now).append(now)
        if len(self._failures) > 10_000:  # forget idle keys so memory stays bounded
            for key in [k for k, v in self._failures.items() if not v]:
                del self._failures[key]

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)
