from __future__ import annotations

import numpy as np

from goldentime.contracts.video import VideoEventType
from video_relay.health import HealthConfig, HealthMonitor, frame_stats

CFG = HealthConfig(
    frozen_grace_s=5, black_grace_s=5, tamper_grace_s=5, offline_grace_s=5, baseline_samples=5
)


def _textured(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (90, 160), dtype=np.uint8)


def _feed(monitor: HealthMonitor, frames: list[np.ndarray], start: float) -> float:
    t = start
    for frame in frames:
        monitor.on_frame(frame_stats(frame), t)
        t += 1.0
    return t


def test_black_is_raised_only_after_grace_and_clears() -> None:
    monitor = HealthMonitor(config=CFG)
    t = _feed(monitor, [_textured(i) for i in range(6)], 0.0)
    black = np.full((90, 160), 3, np.uint8)
    t = _feed(monitor, [black] * 4, t)
    assert monitor.active() == set()
    t = _feed(monitor, [black] * 3, t)
    assert monitor.active() == {VideoEventType.BLACK}
    _feed(monitor, [_textured(99)], t)
    assert monitor.active() == set()


def test_frozen_and_covered_and_blurred() -> None:
    monitor = HealthMonitor(config=CFG)
    t = _feed(monitor, [_textured(i) for i in range(8)], 0.0)
    t = _feed(monitor, [_textured(1)] * 8, t)
    assert VideoEventType.FROZEN in monitor.active()
    covered = [np.full((90, 160), 120 + (i % 2), np.uint8) for i in range(8)]
    t = _feed(monitor, covered, t)
    assert monitor.active() == {VideoEventType.TAMPER}
    blurred = [
        np.clip(np.full((90, 160), 100) + np.arange(160) // 8 + i, 0, 255).astype(np.uint8)
        for i in range(8)
    ]
    _feed(monitor, blurred, t)
    assert VideoEventType.TAMPER in monitor.active()


def test_offline_after_grace_hides_other_problems() -> None:
    monitor = HealthMonitor(config=CFG)
    _feed(monitor, [_textured(i) for i in range(3)], 0.0)
    monitor.on_no_frame(4.0, reason="refused")
    assert monitor.active() == set()
    monitor.on_no_frame(8.0, reason="refused")
    assert monitor.active() == {VideoEventType.OFFLINE}
    assert monitor.detail[VideoEventType.OFFLINE] == "refused"
    monitor.on_frame(frame_stats(_textured(5)), 9.0)
    assert monitor.active() == set()
