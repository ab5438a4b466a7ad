"""Deterministic synthetic non-fire scenes: the negatives the fire detector must not alarm on.

Each scene renders a frame for a time ``t`` (seconds), so it looks the same at any frame rate,
and uses a fixed seed, so two runs produce identical pixels. Scenes mimic the classic false
alarms of colour-based fire detectors: moving orange and red objects, flashing lights, sunset
tones, vehicle headlights and a blinking neon sign.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from video_relay.errors import SourceError

Image = npt.NDArray[Any]
SCENES = ("moving_orange", "flashing_lights", "sunset", "headlights", "neon")


class Scene:
    """A renderer of one synthetic scene at ``width`` x ``height``."""

    def __init__(self, name: str, *, width: int = 640, height: int = 360, seed: int = 7) -> None:
        if name not in SCENES:
            raise SourceError(f"unknown synthetic scene {name!r}; known: {', '.join(SCENES)}")
        if width < 64 or height < 36:
            raise SourceError(f"synthetic scene too small: {width}x{height}")
        self.name, self.width, self.height = name, width, height
        rng = np.random.default_rng(seed)
        self._noise = [rng.normal(0.0, 2.0, (height, width, 1)).astype(np.int16) for _ in range(8)]
        self._background = self._make_background(rng)
        self._draw: Callable[[Image, float], None] = getattr(self, f"_draw_{name}")

    def _make_background(self, rng: np.random.Generator) -> Image:
        h, w = self.height, self.width
        img = np.zeros((h, w, 3), np.uint8)
        if self.name == "sunset":
            ys = np.linspace(0.0, 1.0, h)[:, None]
            sky = np.stack(
                [60 + 80 * ys, 90 + 90 * ys * (1 - ys) * 3, 235 - 20 * ys], axis=-1
            )  # BGR: deep blue-ish top to orange horizon
            img[:] = np.clip(np.broadcast_to(sky, (h, w, 3)), 0, 255).astype(np.uint8)
            img[int(h * 0.75) :] = (30, 35, 45)
        elif self.name == "headlights":
            img[:] = (25, 22, 20)
            cv2.rectangle(img, (0, int(h * 0.55)), (w, h), (45, 45, 45), -1)
        else:
            img[:] = (120, 118, 110)
            cv2.rectangle(img, (0, int(h * 0.6)), (w, h), (80, 80, 80), -1)
            for _ in range(12):
                x, y = int(rng.integers(0, w - 40)), int(rng.integers(0, int(h * 0.6) - 40))
                shade = int(rng.integers(60, 200))
                cv2.rectangle(img, (x, y), (x + 40, y + 30), (shade, shade, shade - 10), -1)
        return img

    def render(self, t: float) -> Image:
        frame = self._background.copy()
        self._draw(frame, t)
        noise = self._noise[int(t * 25) % len(self._noise)]
        noisy = frame.astype(np.int16) + noise
        out: Image = np.clip(noisy, 0, 255).astype(np.uint8)
        return out

    # --- scenes -------------------------------------------------------------------------------
    def _draw_moving_orange(self, img: Image, t: float) -> None:
        w, h = self.width, self.height
        x = int((t * 60) % (w + 200)) - 100  # an orange van crossing slowly
        cv2.rectangle(img, (x, int(h * 0.5)), (x + 120, int(h * 0.72)), (0, 120, 240), -1)
        cv2.rectangle(img, (x + 10, int(h * 0.53)), (x + 40, int(h * 0.6)), (60, 60, 60), -1)
        bx = int(w * 0.5 + w * 0.35 * math.sin(t * 0.7))  # a red ball swinging
        by = int(h * 0.35 + h * 0.1 * math.sin(t * 1.3))
        cv2.circle(img, (bx, by), 22, (20, 30, 220), -1)
        px = int(w * 0.2 + (t * 12) % (w * 0.6))  # a pedestrian in an orange vest, walking
        cv2.rectangle(img, (px, int(h * 0.42)), (px + 18, int(h * 0.62)), (10, 140, 250), -1)

    def _draw_flashing_lights(self, img: Image, t: float) -> None:
        w, h = self.width, self.height
        for i, (hz, colour) in enumerate(((2.0, (0, 0, 255)), (3.0, (0, 110, 255)))):
            on = math.sin(2 * math.pi * hz * t + i) > 0
            cx = int(w * (0.3 + 0.4 * i))
            cv2.rectangle(
                img, (cx - 60, int(h * 0.55)), (cx + 60, int(h * 0.7)), (200, 200, 200), -1
            )
            if on:
                cv2.circle(img, (cx - 25, int(h * 0.52)), 16, colour, -1)
            else:
                cv2.circle(img, (cx + 25, int(h * 0.52)), 16, colour, -1)
        rotate = (t * 2.5) % 1.0  # a rotating beacon sweeping its beam
        cv2.ellipse(
            img,
            (int(w * 0.85), int(h * 0.3)),
            (40, 14),
            rotate * 360,
            0,
            60,
            (30, 90, 255),
            -1,
        )

    def _draw_sunset(self, img: Image, t: float) -> None:
        w, h = self.width, self.height
        sun_y = int(h * 0.62 + t * 0.4)  # the sun sinks slowly
        cv2.circle(img, (int(w * 0.6), sun_y), 34, (80, 200, 255), -1)
        for i in range(3):  # slow clouds lit orange from below
            cx = int((w * (0.2 + 0.3 * i) + t * (3 + i)) % (w + 120)) - 60
            cv2.ellipse(
                img, (cx, int(h * (0.3 + 0.1 * i))), (70, 14), 0, 0, 360, (60, 130, 230), -1
            )
        img[int(h * 0.75) :] = (30, 35, 45)

    def _draw_headlights(self, img: Image, t: float) -> None:
        w, h = self.width, self.height
        for lane in range(3):
            speed = 90 + 40 * lane
            x = int((t * speed + lane * 230) % (w + 160)) - 80
            y = int(h * (0.62 + 0.1 * lane))
            for dx in (0, 46):  # a pair of warm-white headlights with glow
                cv2.circle(img, (x + dx, y), 16, (120, 190, 235), -1)
                cv2.circle(img, (x + dx, y), 8, (225, 245, 255), -1)
            tx = w - x  # tail lights of the oncoming lane: red
            cv2.circle(img, (tx, y - 25), 6, (30, 30, 210), -1)
            cv2.circle(img, (tx + 40, y - 25), 6, (30, 30, 210), -1)
        for i in range(4):  # sodium street lamps, steady orange
            cv2.circle(img, (int(w * (0.1 + 0.25 * i)), int(h * 0.2)), 7, (60, 160, 250), -1)

    def _draw_neon(self, img: Image, t: float) -> None:
        w, h = self.width, self.height
        lit = int(t * 1.5) % 3 != 2  # blinks off one beat in three
        colour = (40, 60, 250) if lit else (40, 40, 90)
        cv2.putText(img, "CAFE", (int(w * 0.3), int(h * 0.35)), 0, 2.2, colour, 8)
        cv2.rectangle(
            img, (int(w * 0.25), int(h * 0.15)), (int(w * 0.75), int(h * 0.42)), colour, 3
        )


def write_clip(path: Path, scene: Scene, *, seconds: float, fps: float) -> Path:
    """Render ``seconds`` of ``scene`` to an MPEG-4 file at ``fps`` (deterministic)."""
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (scene.width, scene.height)
    )
    if not writer.isOpened():
        raise SourceError(f"{path}: OpenCV cannot write an mp4v clip here")
    try:
        for index in range(int(seconds * fps)):
            writer.write(scene.render(index / fps))
    finally:
        writer.release()
    return path


def write_negative_set(
    directory: Path,
    *,
    seconds: float = 60.0,
    fps: float = 10.0,
    width: int = 640,
    height: int = 360,
) -> list[Path]:
    """Write one clip per scene into ``directory`` (reused when already there)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in SCENES:
        path = directory / f"negative_{name}_{width}x{height}_{int(seconds)}s_{int(fps)}fps.mp4"
        if not path.exists() or path.stat().st_size == 0:
            tmp = path.with_suffix(".tmp.mp4")
            write_clip(tmp, Scene(name, width=width, height=height), seconds=seconds, fps=fps)
            tmp.replace(path)
        paths.append(path)
    return paths
