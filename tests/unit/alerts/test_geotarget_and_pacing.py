"""Geo-targeting (vectorised equals the per-point loop; dedupe; opt-out; exercise) and pacing."""

from __future__ import annotations

import numpy as np
import pytest

from alerts.areas import load_gazetteer
from alerts.channels.base import RateLimiter, RetryPolicy, with_retry
from alerts.errors import ChannelError
from alerts.geotarget import SubscriberIndex


def _index(n_subscribers: int, seed: int = 7) -> SubscriberIndex:
    rng = np.random.default_rng(seed)
    owner = np.concatenate([np.arange(n_subscribers), rng.integers(0, n_subscribers, 500)])
    return SubscriberIndex(
        phones=[f"+8210{i:08d}" for i in range(n_subscribers)],
        languages=["en" if i % 5 == 0 else "ko" for i in range(n_subscribers)],
        active=np.array([i % 11 != 0 for i in range(n_subscribers)]),
        exercise=np.array([i % 7 == 0 for i in range(n_subscribers)]),
        owner=owner.astype(np.int64),
        lon=rng.uniform(126.8, 127.2, len(owner)),
        lat=rng.uniform(37.45, 37.70, len(owner)),
    )


def test_vectorised_matches_loop_and_deduplicates() -> None:
    index = _index(3000)
    area = load_gazetteer().resolve("Jongno-gu").geometry
    fast = index.inside(area)
    assert len(fast) > 20
    assert np.array_equal(fast, index.inside_loop(area))
    assert len(set(fast.tolist())) == len(fast)


def test_recipients_skip_opted_out_and_exercise_is_participants_only() -> None:
    index = _index(3000)
    area = load_gazetteer().resolve("Jongno-gu").geometry
    live = index.recipients(area, exercise=False)
    phones = [r.phone for r in live]
    assert len(phones) == len(set(phones))
    assert all(int(p[5:]) % 11 != 0 for p in phones)
    drill = index.recipients(area, exercise=True)
    assert drill and all(int(r.phone[5:]) % 7 == 0 for r in drill)
    assert {r.language for r in live} == {"ko", "en"}


def test_rate_limiter_paces_by_schedule() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(10.0, monotonic=lambda: now[0], sleep=sleep)
    for _ in range(21):
        limiter.acquire()
    assert now[0] == pytest.approx(2.0)  # 21 messages at 10/s: the last starts at t=2 s
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError, match="catch_up_s"):
        RateLimiter(10.0, catch_up_s=-1)


def test_rate_limiter_catches_up_a_short_stall_only() -> None:
    now = [0.0]
    starts: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(100.0, catch_up_s=0.05, monotonic=lambda: now[0], sleep=sleep)
    for _ in range(10):
        limiter.acquire()
        starts.append(now[0])
    assert starts[-1] == pytest.approx(0.09)
    now[0] = 0.12  # stalled 20 ms past the next slot (0.10): those two slots are made up
    for _ in range(3):
        limiter.acquire()
        starts.append(now[0])
    assert starts[-3:] == pytest.approx([0.12, 0.12, 0.12])
    now[0] = 1.0  # stalled 870 ms: 50 ms of it is made up (5 slots + this one), rest lost
    burst = 0
    while True:
        before = now[0]
        limiter.acquire()
        if now[0] > before:
            break
        burst += 1
    assert burst == 6
    assert now[0] == pytest.approx(1.0 + 0.01)


def test_retry_backs_off_on_retryable_only() -> None:
    delays: list[float] = []
    attempts = [0]

    def flaky() -> str:
        attempts[0] += 1
        if attempts[0] < 3:
            raise ChannelError("429", retryable=True)
        return "ok"

    policy = RetryPolicy(attempts=5, base_delay_s=0.5)
    assert with_retry(flaky, policy=policy, sleep=delays.append, what="x") == "ok"
    assert delays == [0.5, 1.0]

    def refused() -> str:
        raise ChannelError("400 bad number")

    with pytest.raises(ChannelError, match="400"):
        with_retry(refused, policy=policy, sleep=delays.append, what="x")

    def always_busy() -> str:
        raise ChannelError("503", retryable=True)

    with pytest.raises(ChannelError, match="gave up after 2"):
        with_retry(always_busy, policy=RetryPolicy(attempts=2), sleep=delays.append, what="x")
