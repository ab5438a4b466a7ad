"""A loopback fake of the Mastodon statuses API, for the real ``Mastodon.py`` client.

``POST /api/v1/statuses`` creates a status (form or JSON body, bearer token required),
honours ``Idempotency-Key`` like a real instance (same key → same status, nothing new), and
refuses text over the instance's character limit with 422, as Mastodon does.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

URL_WEIGHT = 23  # Mastodon counts every URL as 23 characters


def mastodon_length(text: str) -> int:
    """Characters as Mastodon counts them: each http(s) URL weighs 23."""
    total = 0
    for word in text.split(" "):
        for line_part in word.split("\n"):
            is_url = line_part.startswith(("http://", "https://"))
            total += URL_WEIGHT if is_url else len(line_part)
        total += word.count("\n")
    return total + text.count(" ")


@dataclass
class FakeMastodonState:
    token: str
    limit: int
    statuses: list[dict[str, Any]] = field(default_factory=list)
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _reply(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.startswith("/api/v1/instance"):
            self._reply(200, {"uri": "fake.local", "title": "fake", "version": "4.3.0"})
            return
        self._reply(404, {"error": "Record not found"})

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode()
        if self.path != "/api/v1/statuses":
            self._reply(404, {"error": "Record not found"})
            return
        if self.headers.get("Authorization") != f"Bearer {state.token}":
            self._reply(401, {"error": "The access token is invalid"})
            return
        if self.headers.get("Content-Type", "").startswith("application/json"):
            form: dict[str, Any] = json.loads(raw or "{}")
        else:
            form = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
        text = str(form.get("status", ""))
        if not text:
            self._reply(422, {"error": "Validation failed: Text can't be blank"})
            return
        if mastodon_length(text) > state.limit:
            self._reply(422, {"error": f"Validation failed: Text character limit of {state.limit}"})
            return
        key = self.headers.get("Idempotency-Key")
        with state.lock:
            if key and key in state.by_key:
                self._reply(200, state.by_key[key])
                return
            status_id = str(len(state.statuses) + 1)
            status = {
                "id": status_id,
                "uri": f"https://fake.local/users/alerts/statuses/{status_id}",
                "url": f"https://fake.local/@alerts/{status_id}",
                "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "content": text,
                "text": text,
                "visibility": form.get("visibility", "public"),
                "in_reply_to_id": form.get("in_reply_to_id"),
                "language": form.get("language"),
                "spoiler_text": form.get("spoiler_text", ""),
                "sensitive": False,
                "media_attachments": [],
                "mentions": [],
                "tags": [],
                "emojis": [],
                "reblogs_count": 0,
                "favourites_count": 0,
                "replies_count": 0,
            }
            state.statuses.append(status)
            if key:
                state.by_key[key] = status
        self._reply(200, status)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: FakeMastodonState) -> None:
        super().__init__(address, _Handler)
        self.state = state


class FakeMastodonApi:
    """Start/stop the fake on a loopback port; inspect the statuses it holds."""

    def __init__(
        self,
        *,
        token: str = "fake-token",  # noqa: S107 - loopback fake
        limit: int = 500,
        port: int = 0,
    ) -> None:
        self.state = FakeMastodonState(token=token, limit=limit)
        self._server = _Server(("127.0.0.1", port), self.state)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def token(self) -> str:
        return self.state.token

    def start(self) -> FakeMastodonApi:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-mastodon", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeMastodonApi:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def statuses(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.statuses)
