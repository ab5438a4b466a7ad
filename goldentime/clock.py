"""Injectable clocks, so scenarios can run faster than real time and tests are deterministic."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the time (aware UTC datetimes) and can sleep in that time."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ScaledClock:
    """A clock that runs ``speed`` times faster than the wall clock from ``start``.

    Used by the demo and the simulator: one real second is ``speed`` scenario seconds.
    """

    def __init__(self, *, start: datetime, speed: float, base: Clock | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._base = base or SystemClock()
        self._start = start
        self._speed = speed
        self._t0 = self._base.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        elapsed = (self._base.monotonic() - self._t0) * self._speed
        return self._start + timedelta(seconds=elapsed)

    def monotonic(self) -> float:
        return (self._base.monotonic() - self._t0) * self._speed

    def real_seconds(self, scenario_seconds: float) -> float:
        """How many wall-clock seconds a span of scenario time takes."""
        return scenario_seconds / self._speed


class ManualClock:
    """A clock moved by hand, for unit tests."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds
