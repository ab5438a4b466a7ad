"""The one retry helper: exponential backoff, and running an action until it succeeds.

:class:`Backoff` yields the delays (base, 2*base, ... capped; optional jitter), :func:`retry`
runs a blocking action and :func:`retry_async` a coroutine, each retrying only the errors
``retry_if`` accepts and re-raising every other error at once. The sleep is injected (tests
pass a recorder, never wait); ``attempts=None`` retries until it succeeds (a consumer joining
its group while the broker restarts).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from goldentime.errors import GoldenTimeError

T = TypeVar("T")

RetryIf = Callable[[BaseException], bool]
OnRetry = Callable[[BaseException, int, float], None]
"""Called before each wait: the error, the attempt that failed (1-based), the delay."""


class RetriesExhaustedError(GoldenTimeError):
    """Every attempt failed; ``last`` is the last error, ``attempts`` how many were made."""

    def __init__(self, last: BaseException, attempts: int) -> None:
        super().__init__(f"gave up after {attempts} attempts: {last}")
        self.last = last
        self.attempts = attempts


class Backoff:
    """Exponential delays: ``base_s * factor**n`` capped at ``cap_s``, each multiplied by a
    random factor in ``[1 - jitter, 1 + jitter]``. :meth:`reset` after a success."""

    def __init__(
        self,
        *,
        base_s: float,
        cap_s: float,
        factor: float = 2.0,
        jitter: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        if base_s < 0 or cap_s < base_s:
            raise ValueError("need 0 <= base_s <= cap_s")
        if factor < 1 or not 0 <= jitter < 1:
            raise ValueError("need factor >= 1 and 0 <= jitter < 1")
        self.base_s, self.cap_s, self.factor, self.jitter = base_s, cap_s, factor, jitter
        self._rng = rng or random.Random()
        self.attempts = 0

    def delay(self, attempt: int) -> float:
        """The delay after failed attempt ``attempt`` (1-based), without jitter."""
        return float(min(self.cap_s, self.base_s * self.factor ** float(attempt - 1)))

    def next_delay(self) -> float:
        self.attempts += 1
        delay = self.delay(self.attempts)
        if self.jitter:
            delay *= 1.0 - self.jitter + 2.0 * self.jitter * self._rng.random()
        return float(delay)

    def reset(self) -> None:
        self.attempts = 0


def _check(attempts: int | None) -> None:
    if attempts is not None and attempts < 1:
        raise ValueError("attempts must be >= 1 (or None: until it succeeds)")


def retry(
    action: Callable[[], T],
    *,
    retry_if: RetryIf,
    attempts: int | None,
    backoff: Backoff | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: OnRetry | None = None,
) -> T:
    """``action()``; an error ``retry_if`` accepts is retried after the backoff's delay (none
    without a backoff), up to ``attempts``; then :class:`RetriesExhaustedError`."""
    _check(attempts)
    attempt = 0
    while True:
        attempt += 1
        try:
            return action()
        except Exception as err:
            if not retry_if(err):
                raise
            if attempts is not None and attempt >= attempts:
                raise RetriesExhaustedError(err, attempt) from err
            delay = backoff.next_delay() if backoff is not None else 0.0
            if on_retry is not None:
                on_retry(err, attempt, delay)
            if delay > 0:
                sleep(delay)


async def retry_async(
    action: Callable[[], Awaitable[T]],
    *,
    retry_if: RetryIf,
    attempts: int | None,
    backoff: Backoff | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_retry: OnRetry | None = None,
) -> T:
    """The coroutine version of :func:`retry` (cancellation is never retried)."""
    _check(attempts)
    attempt = 0
    while True:
        attempt += 1
        try:
            return await action()
        except Exception as err:
            if not retry_if(err):
                raise
            if attempts is not None and attempt >= attempts:
                raise RetriesExhaustedError(err, attempt) from err
            delay = backoff.next_delay() if backoff is not None else 0.0
            if on_retry is not None:
                on_retry(err, attempt, delay)
            if delay > 0:
                await sleep(delay)
