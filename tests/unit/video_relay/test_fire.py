from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from video_relay.fire import FireSmokeDetector
from video_relay.synthetic import SCENES, Scene


def _run(frames: list[np.ndarray], fps: float = 5.0) -> list[int]:
    detector = FireSmokeDetector()
    return [len(detector.process(f, i / fps)[0]) for i, f in enumerate(frames)]


def test_flickering_flame_is_found_at_its_place(fire_frame: Callable[..., np.ndarray]) -> None:
    detector = FireSmokeDetector()
    regions = []
    for i in range(15):
        regions, _ = detector.process(fire_frame(i / 5), i / 5)
    assert regions, "a flickering flame-coloured blob must be reported"
    box = regions[0].box
    assert box.x == pytest.approx(300 / 640, abs=0.03) and box.y == pytest.approx(
        150 / 360, abs=0.05
    )
    assert 0.5 <= regions[0].confidence <= 0.97


def test_static_orange_is_not_fire(fire_frame: Callable[..., np.ndarray]) -> None:
    frame = fire_frame(0.0)
    assert sum(_run([frame.copy() for _ in range(20)])) == 0


def test_moving_flame_coloured_object_is_not_fire(
    fire_frame: Callable[..., np.ndarray],
) -> None:
    frames = [fire_frame(i / 5, x=20 + 25 * i) for i in range(20)]
    assert sum(_run(frames)) == 0


def test_ignore_zone_masks_the_flame(fire_frame: Callable[..., np.ndarray]) -> None:
    detector = FireSmokeDetector()
    rows, cols = detector.grid_shape(640, 360)
    detector.set_ignore_cells(np.ones((rows, cols), bool))
    assert all(not detector.process(fire_frame(i / 5), i / 5)[0] for i in range(15))


@pytest.mark.parametrize("scene", [s for s in SCENES if s != "moving_orange"])
def test_synthetic_negatives_raise_no_fire(scene: str) -> None:
    renderer = Scene(scene)
    frames = [renderer.render(i / 5) for i in range(100)]
    assert sum(_run(frames)) == 0


def test_scene_rendering_is_deterministic() -> None:
    assert np.array_equal(Scene("sunset").render(3.2), Scene("sunset").render(3.2))
