"""goldentime.retry: backoff delays, retry and retry_async (sleeps recorded, never waited)."""

from __future__ import annotations

import random

import pytest
from gt_testing import run_coroutine

from goldentime.retry import Backoff, RetriesExhaustedError, retry, retry_async


class Flaky:
    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "ok"


def test_backoff_doubles_to_the_cap_and_resets() -> None:
    backoff = Backoff(base_s=0.2, cap_s=1.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    backoff.reset()
    assert backoff.next_delay() == 0.2


def test_backoff_jitter_stays_in_its_band() -> None:
    backoff = Backoff(base_s=1.0, cap_s=8.0, jitter=0.2, rng=random.Random(7))
    for attempt in range(1, 8):
        plain = min(8.0, 2.0 ** (attempt - 1))
        assert plain * 0.8 <= backoff.next_delay() <= plain * 1.2
    with pytest.raises(ValueError):
        Backoff(base_s=2.0, cap_s=1.0)


def test_retry_retries_only_what_it_is_told() -> None:
    slept: list[float] = []
    flaky = Flaky(2, TimeoutError("busy"))
    result = retry(
        flaky,
        retry_if=lambda err: isinstance(err, TimeoutError),
        attempts=5,
        backoff=Backoff(base_s=0.5, cap_s=10.0),
        sleep=slept.append,
    )
    assert (result, flaky.calls, slept) == ("ok", 3, [0.5, 1.0])
    refused = Flaky(1, KeyError("bad"))
    with pytest.raises(KeyError):
        retry(refused, retry_if=lambda err: isinstance(err, TimeoutError), attempts=5)
    assert refused.calls == 1


def test_retry_gives_up_with_the_last_error() -> None:
    seen: list[int] = []
    always = Flaky(10, TimeoutError("down"))
    with pytest.raises(RetriesExhaustedError, match="after 3 attempts: down") as raised:
        retry(
            always,
            retry_if=lambda _err: True,
            attempts=3,
            on_retry=lambda _err, attempt, _delay: seen.append(attempt),
        )
    assert isinstance(raised.value.last, TimeoutError)
    assert always.calls == 3 and seen == [1, 2]


def test_retry_async_until_it_succeeds() -> None:
    slept: list[float] = []

    async def record(delay: float) -> None:
        slept.append(delay)

    flaky = Flaky(4, ConnectionError("no broker"))

    async def action() -> str:
        return flaky()

    result = run_coroutine(  # not asyncio.run: browser tests hold the main thread's loop
        lambda: retry_async(
            action,
            retry_if=lambda err: isinstance(err, ConnectionError),
            attempts=None,
            backoff=Backoff(base_s=0.2, cap_s=0.5),
            sleep=record,
        )
    )
    assert result == "ok" and slept == [0.2, 0.4, 0.5, 0.5]
