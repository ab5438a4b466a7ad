"""The channel interface and the pieces every channel shares: pacing and retry.

A per-recipient channel (SMS) implements :class:`MessageChannel`: ``send`` one message, and
``find_sent`` to ask the provider whether a message whose outcome we did not record (the
process died mid-call) was in fact accepted, so a resumed fan-out never sends it twice.
A broadcast channel (social media, cell-broadcast request) implements
:class:`BroadcastChannel`: one post per alert and language.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from alerts.errors import ChannelError
from goldentime.retry import Backoff, RetriesExhaustedError, retry

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message to one recipient."""

    key: str  # idempotency key (alert, channel, recipient)
    to: str
    body: str
    language: str
    validity_s: int


@dataclass(frozen=True, slots=True)
class SendResult:
    provider_id: str
    status: str


class MessageChannel(Protocol):
    name: str
    sandbox: bool

    def send(self, message: OutboundMessage) -> SendResult: ...

    def find_sent(self, message: OutboundMessage) -> SendResult | None: ...


@dataclass(frozen=True, slots=True)
class BroadcastPost:
    alert_id: str
    language: str
    text: str
    link: str
    exercise: bool


class BroadcastChannel(Protocol):
    name: str
    sandbox: bool

    def post(self, post: BroadcastPost) -> list[str]: ...


class RateLimiter:
    """Paces calls to ``rate_per_s`` by schedule (thread-safe): call ``n`` starts at t0 + n/rate.

    A schedule, unlike a token bucket with a burst, keeps the measured rate on the limit
    from the first message. A sender that fell behind (a slow answer, a busy CPU) makes up
    at most ``catch_up_s`` of lost time by sending its missed slots at once; anything
    older is lost, so in any window of T seconds at most ``rate * (T + catch_up_s) + 1``
    calls start, and a short stall does not pull the long-run rate under the limit.
    """

    def __init__(
        self,
        rate_per_s: float | None,
        *,
        catch_up_s: float = 0.02,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_s is not None and rate_per_s <= 0:
            raise ValueError(f"rate limit must be positive, got {rate_per_s}")
        if catch_up_s < 0:
            raise ValueError(f"catch_up_s must not be negative, got {catch_up_s}")
        self.rate_per_s = rate_per_s
        self.catch_up_s = catch_up_s
        self._monotonic = monotonic
        self._sleep = sleep
        self._next: float | None = None
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if self.rate_per_s is None:
            return
        interval = 1.0 / self.rate_per_s
        with self._lock:
            now = self._monotonic()
            earliest = now - max(interval, self.catch_up_s)
            slot = now if self._next is None else max(self._next, earliest)
            self._next = slot + interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff for retryable failures (429 and 5xx)."""

    attempts: int = 5
    base_delay_s: float = 0.2
    max_delay_s: float = 10.0

    def backoff(self) -> Backoff:
        return Backoff(base_s=self.base_delay_s, cap_s=max(self.max_delay_s, self.base_delay_s))

    def delay(self, attempt: int) -> float:
        return self.backoff().delay(attempt)


def with_retry(
    action: Callable[[], T], *, policy: RetryPolicy, sleep: Callable[[float], None], what: str
) -> T:
    """Run ``action``; on a retryable ChannelError back off and try again, up to the policy."""
    try:
        return retry(
            action,
            retry_if=lambda err: isinstance(err, ChannelError) and err.retryable,
            attempts=policy.attempts,
            backoff=policy.backoff(),
            sleep=sleep,
        )
    except RetriesExhaustedError as err:
        raise ChannelError(f"{what}: gave up after {err.attempts} attempts: {err.last}") from err
