"""SMS through the real ``twilio`` client: pacing per sender, retry on 429/5xx, reconciliation.

The client is ``twilio.rest.Client``; pointing ``client.api.base_url`` at a loopback fake is
how tests and the demo run it without the internet. Each worker thread gets its own client
(and HTTP session). Korean numbers are checked for EUC-KR and a numeric sender before any
call; ``ValidityPeriod`` drops a message Twilio could not send before the alert expires.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import urllib3
from requests.exceptions import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from alerts.channels.base import OutboundMessage, RateLimiter, RetryPolicy, SendResult, with_retry
from alerts.errors import ChannelError
from alerts.sms_text import check_sms

MAX_VALIDITY_S = 36000  # Twilio's maximum: queued messages fail after 10 h


class PooledHttpClient(HttpClient):  # type: ignore[misc]
    """Twilio's HTTP transport on a urllib3 connection pool, without the ``requests`` layer.

    ``twilio.rest.Client`` accepts any ``HttpClient``; this one keeps the client's API,
    serialisation and error handling and halves its CPU per message (no per-request proxy
    environment scan, no session hooks), which is what bounds fan-out on a small machine.
    """

    def __init__(self, *, timeout: float = 30.0, pool_size: int = 8) -> None:
        super().__init__(logger=logging.getLogger("alerts.twilio"), is_async=False, timeout=timeout)
        self._pool = urllib3.PoolManager(maxsize=pool_size, retries=False)

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        sent_headers = dict(headers or {})
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            sent_headers["Authorization"] = f"Basic {token}"
        if params:
            url = f"{url}?{urllib.parse.urlencode(params, doseq=True)}"
        body = None
        if data:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            sent_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        try:
            answer = self._pool.request(
                method.upper(),
                url,
                body=body,
                headers=sent_headers,
                timeout=timeout or self.timeout,
                redirect=allow_redirects,
            )
        except urllib3.exceptions.HTTPError as err:
            raise TwilioException(f"HTTP request to {url} failed: {err}") from err
        return Response(answer.status, answer.data.decode("utf-8", "replace"), answer.headers)


def twilio_client(
    *, account_sid: str, auth_token: str, base_url: str | None = None, pooled: bool = True
) -> Any:
    """A real Twilio client; ``base_url`` redirects it (e.g. to the loopback fake)."""
    http_client = PooledHttpClient() if pooled else None
    client = Client(account_sid, auth_token, http_client=http_client)
    if base_url is not None:
        client.api.base_url = base_url.rstrip("/")
    return client


class TwilioSmsChannel:
    """Per-recipient SMS over Twilio's Messages API."""

    name = "sms"

    def __init__(
        self,
        *,
        client_factory: Callable[[], Any],
        sender: str,
        status_callback_url: str | None,
        rate_per_s: float | None,
        retry: RetryPolicy | None = None,
        sandbox: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sender = sender
        self.sandbox = sandbox
        self.status_callback_url = status_callback_url
        self.limiter = RateLimiter(rate_per_s, monotonic=monotonic, sleep=sleep)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._client_factory = client_factory
        self._local = threading.local()

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._client_factory()
            self._local.client = client
        return client

    def _create(self, message: OutboundMessage) -> SendResult:
        self.limiter.acquire()
        options: dict[str, Any] = {
            "to": message.to,
            "from_": self.sender,
            "body": message.body,
            "validity_period": max(1, min(MAX_VALIDITY_S, message.validity_s)),
        }
        if self.status_callback_url:
            options["status_callback"] = self.status_callback_url
        try:
            created = self._client().messages.create(**options)
        except TwilioRestException as err:
            retryable = err.status == 429 or err.status >= 500
            raise ChannelError(
                f"Twilio answered {err.status} for {message.to}: {err.msg}", retryable=retryable
            ) from err
        except (TwilioException, RequestException) as err:
            # The provider may or may not have accepted it: reconcile before any retry.
            found = self.find_sent(message)
            if found is not None:
                return found
            raise ChannelError(
                f"Twilio unreachable for {message.to}: {err}", retryable=True
            ) from err
        return SendResult(provider_id=str(created.sid), status=str(created.status))

    def send(self, message: OutboundMessage) -> SendResult:
        check_sms(message.body, to=message.to, sender=self.sender)
        return with_retry(
            lambda: self._create(message),
            policy=self.retry,
            sleep=self._sleep,
            what=f"SMS to {message.to}",
        )

    def find_sent(self, message: OutboundMessage) -> SendResult | None:
        """The provider's record of this exact message to this recipient, if it accepted one."""
        try:
            listed = self._client().messages.list(to=message.to, from_=self.sender, limit=50)
        except (TwilioException, RequestException) as err:
            raise ChannelError(
                f"cannot ask Twilio what was sent to {message.to}: {err}", retryable=True
            ) from err
        for item in listed:
            if item.body == message.body:
                return SendResult(provider_id=str(item.sid), status=str(item.status))
        return None
