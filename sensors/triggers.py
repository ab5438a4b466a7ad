"""Rule primitives on one sensor's stream of plausible values, in event-time order.

Each tracker is fed ``(t, x, reading_id)`` and answers whether its rule is latched now; the
engine (:mod:`sensors.rules`) turns changes into alarm records. Time is the readings' event
time only, so replaying a stream gives the same answers at any speed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from sensors.model import CountRule, LevelThreshold, RateRule

MAX_IDS = 10


def _keep(ids: list[str], reading_id: str) -> None:
    ids.append(reading_id)
    if len(ids) > MAX_IDS:
        del ids[0]


@dataclass(slots=True)
class Latch:
    """A Schmitt trigger with hold times: latch after ``raise_after_s`` at or over
    ``raise_at``; unlatch after ``clear_after_s`` under ``clear_at``."""

    threshold: LevelThreshold
    on: bool = False
    since: datetime | None = None
    run_ids: list[str] = field(default_factory=list)

    def feed(self, t: datetime, x: float, reading_id: str) -> bool:
        """Feed one value; True when the latch changed."""
        th = self.threshold
        if not self.on:
            if x < th.raise_at:
                self.since, self.run_ids = None, []
                return False
            if self.since is None:
                self.since, self.run_ids = t, []
            _keep(self.run_ids, reading_id)
            if (t - self.since).total_seconds() >= th.raise_after_s:
                self.on, self.since = True, None
                return True
            return False
        if x >= th.clear_at:
            self.since, self.run_ids = None, []
            return False
        if self.since is None:
            self.since, self.run_ids = t, []
        _keep(self.run_ids, reading_id)
        if (t - self.since).total_seconds() >= th.clear_after_s:
            self.on, self.since = False, None
            return True
        return False


@dataclass(slots=True)
class CountTracker:
    """``count`` exceedance episodes (rising edges over ``over``) within ``window_s``;
    unlatched after ``clear_after_s`` with no value over ``clear_over``."""

    rule: CountRule
    on: bool = False
    was_over: bool = False
    episodes: deque[tuple[datetime, str]] = field(default_factory=deque)
    last_over_clear: datetime | None = None

    def feed(self, t: datetime, x: float, reading_id: str) -> bool:
        rule = self.rule
        over = x > rule.over
        if over and not self.was_over:
            self.episodes.append((t, reading_id))
        self.was_over = over
        while self.episodes and (t - self.episodes[0][0]).total_seconds() > rule.window_s:
            self.episodes.popleft()
        if x > rule.clear_over:
            self.last_over_clear = t
        if not self.on:
            if len(self.episodes) >= rule.count:
                self.on = True
                return True
            return False
        quiet_since = self.last_over_clear
        if quiet_since is None or (t - quiet_since).total_seconds() >= rule.clear_after_s:
            self.on = False
            return True
        return False

    @property
    def episode_ids(self) -> list[str]:
        return [rid for _, rid in self.episodes][-MAX_IDS:]

    def describe(self) -> str:
        r = self.rule
        if self.on:
            return f"{len(self.episodes)} exceedances over {r.over:g} within {r.window_s:g} s"
        return f"no value over {r.clear_over:g} for {r.clear_after_s:g} s"


@dataclass(slots=True)
class RateTracker:
    """Rise over the last ``per_s`` seconds (at least ``min_span_s`` of data), scaled to
    ``per_s``; latched at ``rise``, unlatched after ``clear_after_s`` under half of it."""

    rule: RateRule
    on: bool = False
    history: deque[tuple[datetime, float, str]] = field(default_factory=deque)
    calm_since: datetime | None = None
    rate: float = 0.0

    def feed(self, t: datetime, x: float, reading_id: str) -> bool:
        rule = self.rule
        self.history.append((t, x, reading_id))
        while len(self.history) > 1 and (t - self.history[0][0]).total_seconds() > rule.per_s:
            self.history.popleft()
        t0, x0, _ = self.history[0]
        span = (t - t0).total_seconds()
        if span <= 0 or span < rule.min_span_s:
            return False
        self.rate = (x - x0) / span * rule.per_s
        if not self.on:
            if self.rate >= rule.rise:
                self.on, self.calm_since = True, None
                return True
            return False
        if self.rate >= rule.rise / 2:
            self.calm_since = None
            return False
        if self.calm_since is None:
            self.calm_since = t
        if (t - self.calm_since).total_seconds() >= rule.clear_after_s:
            self.on, self.calm_since = False, None
            return True
        return False

    @property
    def window_ids(self) -> list[str]:
        return [self.history[0][2], self.history[-1][2]]
