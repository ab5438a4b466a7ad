"""SMS through the real ``twilio`` client: pacing per sender, retry on 429/5xx, reconciliation.

The client is ``twilio.rest.Client``; pointing ``client.api.base_url`` at a loopback fake is
how tests and the demo run it without the internet. Each worker thread gets its own client
and reuses its ``MessageList`` resource; the transport is a keep-alive ``http.client``
connection that writes each request at once (:mod:`alerts.channels.http_transport`). Korean
numbers are checked for EUC-KR and a numeric sender before any call; ``ValidityPeriod``
drops a message Twilio could not send before the alert expires.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from requests.exceptions import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from alerts.channels.base import OutboundMessage, RateLimiter, RetryPolicy, SendResult, with_retry
from alerts.channels.http_transport import KeepAliveHttpClient
from alerts.errors import ChannelError
from alerts.sms_text import check_sms, is_korean_number

MAX_VALIDITY_S = 36000  # Twilio's maximum: queued messages fail after 10 h


def twilio_client(
    *, account_sid: str, auth_token: str, base_url: str | None = None, keep_alive: bool = True
) -> Any:
    """A real Twilio client; ``base_url`` redirects it (e.g. to the loopback fake).

    ``keep_alive`` (default) puts it on :class:`KeepAliveHttpClient`; ``False`` leaves
    Twilio's own ``requests`` transport (the bench's baseline).
    """
    http_client = KeepAliveHttpClient() if keep_alive else None
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
        # (body, Korean recipient) pairs that passed check_sms: a fan-out sends the same few
        # bodies (one per language) to everyone, so each is checked once, not per message.
        self._checked: set[tuple[str, bool]] = set()

    def _messages(self) -> Any:
        """This thread's ``MessageList`` of its own client (built once, reused per message)."""
        messages = getattr(self._local, "messages", None)
        if messages is None:
            messages = self._client_factory().messages
            self._local.messages = messages
        return messages

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
            created = self._messages().create(**options)
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
        checked = (message.body, is_korean_number(message.to))
        if checked not in self._checked:
            check_sms(message.body, to=message.to, sender=self.sender)
            if len(self._checked) < 64:
                self._checked.add(checked)
        return with_retry(
            lambda: self._create(message),
            policy=self.retry,
            sleep=self._sleep,
            what=f"SMS to {message.to}",
        )

    def find_sent(self, message: OutboundMessage) -> SendResult | None:
        """The provider's record of this exact message to this recipient, if it accepted one."""
        try:
            listed = self._messages().list(to=message.to, from_=self.sender, limit=50)
        except (TwilioException, RequestException) as err:
            raise ChannelError(
                f"cannot ask Twilio what was sent to {message.to}: {err}", retryable=True
            ) from err
        for item in listed:
            if item.body == message.body:
                return SendResult(provider_id=str(item.sid), status=str(item.status))
        return None
