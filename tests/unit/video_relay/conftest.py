from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from goldentime.clock import ManualClock
from goldentime.settings import load_settings
from video_relay.registry import Camera


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def camera() -> Camera:
    return Camera(id="cam-test", name="test camera", lat=37.57, lon=126.98, gu="종로구")


@pytest.fixture(scope="session")
def video_dir() -> Path:
    return load_settings().data.seoul_dir / "video"


def _fire_frame(t: float, *, x: int = 300, y: int = 150) -> np.ndarray:
    """A grey scene with a flickering flame-coloured blob whose brightness churns."""
    rng = np.random.default_rng(int(t * 1000))
    img = np.full((360, 640, 3), (110, 112, 108), np.uint8)
    flame = np.zeros((60, 40, 3), np.uint8)
    r = rng.integers(180, 256, (60, 40))
    flame[..., 2] = r
    flame[..., 1] = (r * rng.uniform(0.45, 0.85, (60, 40))).astype(np.uint8)
    flame[..., 0] = (r * 0.25).astype(np.uint8)
    img[y : y + 60, x : x + 40] = flame
    return img


@pytest.fixture
def fire_frame() -> Callable[..., np.ndarray]:
    return _fire_frame
