"""Camera health: offline, frozen, black and tamper (covered or blurred), each with a grace.

A problem is *raised* only after its condition has held for its grace period and *cleared*
when the condition stops, so a single dark or repeated frame raises nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from goldentime.contracts.video import VideoEventType

Image = npt.NDArray[Any]


@dataclass(frozen=True, slots=True)
class HealthConfig:
    offline_grace_s: float = 10.0
    frozen_grace_s: float = 15.0
    black_grace_s: float = 10.0
    tamper_grace_s: float = 10.0
    frozen_max_diff: float = 0.25  # mean abs grey difference of a 64x36 thumbnail
    black_max_mean: float = 18.0
    black_max_std: float = 10.0
    covered_max_std: float = 6.0
    blur_ratio: float = 0.12  # sharpness below this share of the learned baseline
    baseline_samples: int = 25


@dataclass(frozen=True, slots=True)
class FrameStats:
    mean: float
    std: float
    sharpness: float
    thumb: Image


def frame_stats(gray: Image) -> FrameStats:
    thumb = cv2.resize(gray, (64, 36), interpolation=cv2.INTER_AREA)
    mean, std = cv2.meanStdDev(gray)
    sharpness = float(cv2.Laplacian(gray, cv2.CV_32F).var())
    return FrameStats(float(mean[0][0]), float(std[0][0]), sharpness, thumb)


class _Condition:
    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        self.since: float | None = None
        self.raised = False

    def update(self, holds: bool, now: float) -> bool:
        if not holds:
            self.since, self.raised = None, False
            return False
        if self.since is None:
            self.since = now
        self.raised = self.raised or now - self.since >= self.grace_s
        return self.raised


class HealthMonitor:
    """Per-camera health conditions fed with frame statistics and the time of the last frame."""

    def __init__(self, *, config: HealthConfig | None = None) -> None:
        self.config = cfg = config or HealthConfig()
        self._conditions = {
            VideoEventType.OFFLINE: _Condition(cfg.offline_grace_s),
            VideoEventType.FROZEN: _Condition(cfg.frozen_grace_s),
            VideoEventType.BLACK: _Condition(cfg.black_grace_s),
            VideoEventType.TAMPER: _Condition(cfg.tamper_grace_s),
        }
        self._prev_thumb: Image | None = None
        self._baseline: list[float] = []
        self.last_frame_at: float | None = None
        self.detail: dict[VideoEventType, str] = {}

    def on_frame(self, stats: FrameStats, now: float) -> None:
        cfg = self.config
        self.last_frame_at = now
        self._conditions[VideoEventType.OFFLINE].update(False, now)
        frozen = False
        if self._prev_thumb is not None:
            diff = float(cv2.absdiff(stats.thumb, self._prev_thumb).mean())
            frozen = diff <= cfg.frozen_max_diff
        self._prev_thumb = stats.thumb
        black = stats.mean <= cfg.black_max_mean and stats.std <= cfg.black_max_std
        covered = not black and stats.std <= cfg.covered_max_std
        baseline = float(np.median(self._baseline)) if self._baseline else None
        blurred = (
            not black
            and len(self._baseline) >= cfg.baseline_samples
            and baseline is not None
            and stats.sharpness < cfg.blur_ratio * baseline
        )
        if not (black or covered or blurred or frozen):
            self._baseline = [*self._baseline[-(4 * cfg.baseline_samples) + 1 :], stats.sharpness]
        self._conditions[VideoEventType.FROZEN].update(frozen and not black, now)
        self._conditions[VideoEventType.BLACK].update(black, now)
        self._conditions[VideoEventType.TAMPER].update(covered or blurred, now)
        self.detail[VideoEventType.TAMPER] = (
            "lens covered (uniform image)" if covered else "image blurred or defocused"
        )
        self.detail[VideoEventType.BLACK] = f"mean brightness {stats.mean:.0f}/255"
        self.detail[VideoEventType.FROZEN] = "identical frames"

    def on_no_frame(self, now: float, *, reason: str) -> None:
        """Called while the source fails; offline is raised after its grace period."""
        since = self.last_frame_at if self.last_frame_at is not None else now
        condition = self._conditions[VideoEventType.OFFLINE]
        if condition.since is None:
            condition.since = since
        condition.update(True, now)
        self.detail[VideoEventType.OFFLINE] = reason

    def active(self) -> set[VideoEventType]:
        """Problems currently raised (offline hides the others: no frames, nothing to judge)."""
        if self._conditions[VideoEventType.OFFLINE].raised:
            return {VideoEventType.OFFLINE}
        return {kind for kind, cond in self._conditions.items() if cond.raised}
