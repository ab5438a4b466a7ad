"""A loopback fake of Twilio's Messages API, good enough for the real ``twilio`` client.

It is a real HTTP server (threads, HTTP/1.1 keep-alive) that:

- accepts ``POST /2010-04-01/Accounts/{sid}/Messages.json`` with HTTP basic auth, records the
  message and answers Twilio-shaped JSON (``sid``, ``status: queued``, ...);
- lists messages (``GET .../Messages.json?To=&From=``) the way Twilio pages them;
- injects failures on demand (``fail_next(429, n)``, ``fail_next(503, n)``);
- posts status callbacks to each message's ``StatusCallback`` URL, signed with
  ``X-Twilio-Signature`` exactly as Twilio signs them, optionally duplicated or out of order.

Run it on its own for the demo: ``python -m alerts.fakes.twilio_api --port 8920``.
"""

from __future__ import annotations

import argparse
import base64
import json
import queue
import socket
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from twilio.request_validator import RequestValidator

MESSAGES_PATH = "/2010-04-01/Accounts/{sid}/Messages.json"


@dataclass
class FakeMessage:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    validity_period: int | None
    created_at: datetime
    status: str = "queued"

    def as_json(self, account_sid: str) -> dict[str, Any]:
        stamp = format_datetime(self.created_at)
        return {
            "sid": self.sid,
            "account_sid": account_sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "num_segments": "1",
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "date_created": stamp,
            "date_updated": stamp,
            "date_sent": stamp,
            "messaging_service_sid": None,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{self.sid}.json",
            "subresource_uris": {},
        }


@dataclass
class CallbackPlan:
    """How the fake reports delivery: which statuses, duplicated or reversed."""

    statuses: tuple[str, ...] = ("sent", "delivered")
    duplicate: bool = False
    reverse: bool = False


@dataclass
class FakeTwilioState:
    account_sid: str
    auth_token: str
    messages: list[FakeMessage] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    callbacks: CallbackPlan = field(default_factory=CallbackPlan)
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as separate writes: without NODELAY, Nagle's algorithm
        # and delayed ACKs hold each response for ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, code: int, message: str) -> None:
        self._reply(status, {"code": code, "message": message, "status": status, "more_info": ""})

    def _authorised(self) -> bool:
        state = self.server.state
        expected = base64.b64encode(f"{state.account_sid}:{state.auth_token}".encode()).decode()
        return self.headers.get("Authorization", "") == f"Basic {expected}"

    def _messages_path(self) -> bool:
        path = urllib.parse.urlsplit(self.path).path
        return path == MESSAGES_PATH.format(sid=self.server.state.account_sid)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
        if not self._messages_path():
            self._error(404, 20404, "The requested resource was not found")
            return
        if not self._authorised():
            self._error(401, 20003, "Authenticate")
            return
        state = self.server.state
        with state.lock:
            state.requests += 1
            failure = state.failures.pop(0) if state.failures else None
        if failure is not None:
            self._error(failure, 20429 if failure == 429 else 20500, "injected failure")
            return
        to, sender = form.get("To", [""])[0], form.get("From", [""])[0]
        body = form.get("Body", [""])[0]
        if not to or not sender or not body:
            self._error(400, 21604, "A 'To', 'From' and 'Body' are required")
            return
        validity = form.get("ValidityPeriod", [None])[0]
        with state.lock:
            message = FakeMessage(
                sid=f"SM{len(state.messages) + 1:032x}",
                to=to,
                from_=sender,
                body=body,
                status_callback=form.get("StatusCallback", [None])[0],
                validity_period=int(validity) if validity else None,
                created_at=datetime.now(UTC),
            )
            state.messages.append(message)
        self._reply(201, message.as_json(state.account_sid))
        if message.status_callback:
            self.server.schedule_callbacks(message)

    def do_GET(self) -> None:
        split = urllib.parse.urlsplit(self.path)
        if split.path == "/_fake/messages":
            with self.server.state.lock:
                sid = self.server.state.account_sid
                rows = [
                    {**m.as_json(sid), "created_epoch": m.created_at.timestamp()}
                    for m in self.server.state.messages
                ]
            self._reply(200, {"messages": rows})
            return
        if not self._messages_path():
            self._error(404, 20404, "The requested resource was not found")
            return
        if not self._authorised():
            self._error(401, 20003, "Authenticate")
            return
        query = urllib.parse.parse_qs(split.query)
        to, sender = query.get("To", [None])[0], query.get("From", [None])[0]
        state = self.server.state
        with state.lock:
            found = [
                m.as_json(state.account_sid)
                for m in state.messages
                if (to is None or m.to == to) and (sender is None or m.from_ == sender)
            ]
        self._reply(
            200,
            {
                "messages": found,
                "page": 0,
                "page_size": max(len(found), 50),
                "first_page_uri": split.path,
                "next_page_uri": None,
                "previous_page_uri": None,
                "uri": self.path,
                "start": 0,
                "end": max(len(found) - 1, 0),
            },
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: FakeTwilioState) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.callback_queue: queue.Queue[tuple[str, dict[str, str]] | None] = queue.Queue()

    def schedule_callbacks(self, message: FakeMessage) -> None:
        plan = self.state.callbacks
        statuses = list(reversed(plan.statuses)) if plan.reverse else list(plan.statuses)
        url = message.status_callback
        if url is None:
            return
        for status in statuses:
            for _ in range(2 if plan.duplicate else 1):
                params = {
                    "AccountSid": self.state.account_sid,
                    "MessageSid": message.sid,
                    "SmsSid": message.sid,
                    "MessageStatus": status,
                    "SmsStatus": status,
                    "To": message.to,
                    "From": message.from_,
                    "ApiVersion": "2010-04-01",
                }
                self.callback_queue.put((url, params))


class FakeTwilioApi:
    """Start/stop the fake on a loopback port; inspect what it received."""

    def __init__(
        self,
        *,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "fake-auth-token",  # noqa: S107 - loopback fake
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.state = FakeTwilioState(account_sid=account_sid, auth_token=auth_token)
        self._server = _Server((host, port), self.state)
        self._threads: list[threading.Thread] = []
        self.callback_errors: list[str] = []
        self._flush_events: dict[str, threading.Event] = {}

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def account_sid(self) -> str:
        return self.state.account_sid

    @property
    def auth_token(self) -> str:
        return self.state.auth_token

    def start(self) -> FakeTwilioApi:
        serve = threading.Thread(target=self._server.serve_forever, name="fake-twilio", daemon=True)
        poster = threading.Thread(target=self._post_callbacks, name="fake-twilio-cb", daemon=True)
        self._threads = [serve, poster]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._server.callback_queue.put(None)
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeTwilioApi:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next ``count`` message requests with HTTP ``status`` (429, 500, 503)."""
        with self.state.lock:
            self.state.failures.extend([status] * count)

    def plan_callbacks(self, plan: CallbackPlan) -> None:
        self.state.callbacks = plan

    def messages(self) -> list[FakeMessage]:
        with self.state.lock:
            return list(self.state.messages)

    def count_by_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for message in self.messages():
            counts[message.to] = counts.get(message.to, 0) + 1
        return counts

    def wait_callbacks(self, timeout: float = 10.0) -> None:
        """Block until every scheduled callback has been posted."""
        done = threading.Event()
        self._server.callback_queue.put(("__flush__", {"event": str(id(done))}))
        self._flush_events[str(id(done))] = done
        if not done.wait(timeout):
            raise TimeoutError("status callbacks were not all posted in time")

    def _post_callbacks(self) -> None:
        validator = RequestValidator(self.state.auth_token)
        while True:
            item = self._server.callback_queue.get()
            if item is None:
                return
            url, params = item
            if url == "__flush__":
                self._flush_events.pop(params["event"]).set()
                continue
            signature = validator.compute_signature(url, params)
            request = urllib.request.Request(  # noqa: S310 - loopback URL given by the client
                url,
                data=urllib.parse.urlencode(params).encode(),
                headers={
                    "X-Twilio-Signature": signature,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    response.read()
            except OSError as err:
                self.callback_errors.append(f"{url}: {err}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Loopback fake of the Twilio Messages API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8920)
    parser.add_argument("--auth-token", default="fake-auth-token")
    parser.add_argument("--account-sid", default="AC" + "0" * 32)
    args = parser.parse_args()
    fake = FakeTwilioApi(
        host=args.host, port=args.port, auth_token=args.auth_token, account_sid=args.account_sid
    ).start()
    print(f"fake Twilio API on {fake.base_url} account {fake.account_sid}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
