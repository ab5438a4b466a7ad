"""Fire and smoke detection from colour, flicker and persistence over time (advisory).

Design (rate independent: every window is in seconds, not frames):

1. Each analysed frame is shrunk to a work image (320 px wide) split into 8x8 px cells.
2. **Colour**: a pixel is flame-coloured when red is bright and dominates
   (``R > 130``, ``R > G``, ``R - B > 45``) but is not a pure red lamp (``G > 0.3 R``).
   Smoke-coloured pixels are grey (``max-min < 28``), mid to bright, and differ from a slow
   background model (smoke covers what was behind it).
3. **Flicker**: the mean absolute grey change, inside flame-coloured pixels, between analysed
   frames. Flames churn; a wall, a sunset sky or a sodium lamp does not.
4. **Persistence**: a cell is a fire cell when, over the last ``window_s`` seconds, it was
   flame-coloured in at least ``min_presence`` of the samples with a mean colour share of
   ``min_colour``, and flickered by at least ``min_flicker`` grey levels. A moving orange
   object leaves a cell within the window; a flashing light is dark half the time.
5. **Regions and growth**: fire cells are joined into regions; each gets a tight box from its
   flame pixels and a confidence from flicker strength, how long it has persisted and whether
   the burning area grows.

The output advises a human (events carry ``advisory: true``); it never decides alone.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from goldentime.contracts.video import Box

Image = npt.NDArray[Any]
Grid = npt.NDArray[Any]
Mask = npt.NDArray[Any]


@dataclass(frozen=True, slots=True)
class FireConfig:
    work_width: int = 320
    cell: int = 8
    window_s: float = 1.0
    min_samples: int = 4
    min_colour: float = 0.10
    presence_share: float = 0.03
    min_presence: float = 0.75
    min_flicker: float = 7.0
    smoke_window_s: float = 3.0
    smoke_min_share: float = 0.6
    smoke_min_contrast: float = 12.0
    smoke_background_tau_s: float = 60.0
    growth_horizon_s: float = 10.0
    max_drift_cells_per_s: float = 1.0
    smoke_min_activity: float = 2.5


@dataclass(frozen=True, slots=True)
class Region:
    """One detected region in normalised coordinates with its confidence."""

    box: Box
    confidence: float
    area: float  # share of the frame


@dataclass(slots=True)
class _Sample:
    t: float
    colour: Grid
    flicker: Grid
    smoke: Grid
    activity: Grid


@dataclass(slots=True)
class _State:
    age: float = 0.0
    prev_gray: Image | None = None
    prev_mask: Image | None = None
    background: npt.NDArray[Any] | None = None
    last_t: float | None = None
    samples: deque[_Sample] = field(default_factory=deque)
    fire_since: Grid | None = None
    area_history: deque[tuple[float, float]] = field(default_factory=deque)


def work_size(width: int, height: int, config: FireConfig) -> tuple[int, int]:
    cols = max(4, config.work_width // config.cell)
    rows = max(3, round(cols * height / max(width, 1)))
    return cols * config.cell, rows * config.cell


def _cell_mean(values: npt.NDArray[Any], cols: int, rows: int) -> Grid:
    return cv2.resize(values, (cols, rows), interpolation=cv2.INTER_AREA)


def flame_mask(small: Image) -> Image:
    """Flame-coloured pixels of a BGR image as a 0/1 uint8 mask."""
    b, g, r = cv2.split(small)
    r16 = r.astype(np.int16)
    mask = (r > 130) & (r > g) & (r16 - b > 45) & (g.astype(np.int16) * 10 > r16 * 3)
    return mask.astype(np.uint8)


def _centroid(weights: Grid) -> npt.NDArray[Any]:
    total = float(weights.sum())
    if total <= 0:
        return np.zeros(2)
    ys, xs = np.indices(weights.shape)
    return np.array([float((xs * weights).sum()) / total, float((ys * weights).sum()) / total])


class FireSmokeDetector:
    """Stateful per-camera fire and smoke detector; feed it frames in time order."""

    def __init__(self, *, config: FireConfig | None = None) -> None:
        self.config = config or FireConfig()
        self._state = _State()
        self._ignore: Mask | None = None

    def reset(self) -> None:
        self._state = _State()

    def set_ignore_cells(self, mask: Mask | None) -> None:
        """Cells (rows x cols of the work grid) that are never reported (zones marked ignore)."""
        self._ignore = mask

    def grid_shape(self, width: int, height: int) -> tuple[int, int]:
        w, h = work_size(width, height, self.config)
        return h // self.config.cell, w // self.config.cell

    def process(self, image: Image, t: float) -> tuple[list[Region], list[Region]]:
        """Analyse one BGR frame at time ``t`` (s); return (fire regions, smoke regions)."""
        cfg, st = self.config, self._state
        if st.last_t is not None and t <= st.last_t:
            self.reset()  # time went backwards: a looped file or a reconnected source
            st = self._state
        width, height = work_size(image.shape[1], image.shape[0], cfg)
        cols, rows = width // cfg.cell, height // cfg.cell
        small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        mask = flame_mask(small)
        if st.prev_gray is None or st.prev_gray.shape != gray.shape or st.prev_mask is None:
            st.prev_gray, st.prev_mask = gray, mask
            st.background = gray.astype(np.float32)
            st.last_t = t
            return [], []
        dt = t - (st.last_t if st.last_t is not None else t)
        diff = cv2.absdiff(gray, st.prev_gray).astype(np.float32)
        # Flicker only where a pixel stayed flame-coloured: a rigid orange object that moves
        # changes colour at its edges, a flame changes brightness inside itself.
        steady = (mask & st.prev_mask).astype(np.float32)
        colour = _cell_mean(mask.astype(np.float32), cols, rows)
        steady_share = _cell_mean(steady, cols, rows)
        flicker = _cell_mean(diff * steady, cols, rows) / np.maximum(steady_share, 1e-3)
        activity = _cell_mean(diff, cols, rows)
        smoke = self._smoke_cells(small, gray, dt, cols, rows)
        st.prev_gray, st.prev_mask, st.last_t = gray, mask, t
        st.age += max(dt, 0.0)
        st.samples.append(_Sample(t, colour, flicker, smoke, activity))
        horizon = max(cfg.window_s, cfg.smoke_window_s)
        while st.samples and st.samples[0].t < t - horizon:
            st.samples.popleft()
        fire_cells, strength = self._fire_cells(t)
        fire = self._regions(fire_cells, strength, mask, t, fire=True)
        smoke_cells = self._smoke_persistent(t)
        smoke_regions = self._regions(smoke_cells & ~fire_cells, None, None, t, fire=False)
        return fire, smoke_regions

    def _window(self, t: float, seconds: float) -> list[_Sample]:
        return [s for s in self._state.samples if s.t >= t - seconds]

    def _fire_cells(self, t: float) -> tuple[Mask, Grid]:
        cfg = self.config
        window = self._window(t, cfg.window_s)
        if len(window) < cfg.min_samples:
            shape = self._state.samples[-1].colour.shape
            return np.zeros(shape, bool), np.zeros(shape, np.float32)
        colour = np.stack([s.colour for s in window])
        flicker = np.stack([s.flicker for s in window])
        present = colour >= cfg.presence_share
        presence = present.mean(axis=0)
        mean_flicker = (flicker * present).sum(axis=0) / np.maximum(present.sum(axis=0), 1)
        cells = (
            (presence >= cfg.min_presence)
            & (colour.mean(axis=0) >= cfg.min_colour)
            & (mean_flicker >= cfg.min_flicker)
        )
        if self._ignore is not None and self._ignore.shape == cells.shape:
            cells &= ~self._ignore
        return self._drop_drifting(cells, window), mean_flicker.astype(np.float32)

    def _drop_drifting(self, cells: Mask, window: list[_Sample]) -> Mask:
        """Remove regions whose flame colour moves steadily (vehicles, people, swinging lamps)."""
        if not cells.any():
            return cells
        half = max(1, len(window) // 2)
        span = window[-1].t - window[0].t
        if span <= 0:
            return cells
        early = np.mean([s.colour for s in window[:half]], axis=0)
        late = np.mean([s.colour for s in window[-half:]], axis=0)
        # Whole flame-coloured blobs (not just the fire cells) so a large vehicle that fills
        # the cells it covers still shows its motion.
        blobs = ((early + late) / 2 >= self.config.presence_share).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(blobs, connectivity=8)
        keep = cells.copy()
        elapsed = span * (len(window) - half) / len(window)
        for label in range(1, count):
            part = labels == label
            if not (part & cells).any():
                continue
            x, y, w, h = (int(v) for v in stats[label][:4])
            x0, y0, x1, y1 = max(0, x - 1), max(0, y - 1), x + w + 1, y + h + 1
            drift = _centroid(late[y0:y1, x0:x1]) - _centroid(early[y0:y1, x0:x1])
            if float(np.hypot(*drift)) / elapsed > self.config.max_drift_cells_per_s:
                keep[part] = False
        return keep

    def _smoke_cells(self, small: Image, gray: Image, dt: float, cols: int, rows: int) -> Grid:
        cfg, st = self.config, self._state
        assert st.background is not None
        spread = cv2.subtract(small.max(axis=2), small.min(axis=2))
        contrast = cv2.absdiff(gray.astype(np.float32), st.background)
        greyish = (spread < 28) & (gray > 90) & (gray < 240) & (contrast > cfg.smoke_min_contrast)
        tau = min(cfg.smoke_background_tau_s, 2.0 + st.age)  # learn fast at first
        alpha = float(min(1.0, max(dt, 0.0) / tau))
        cv2.accumulateWeighted(gray.astype(np.float32), st.background, alpha)
        return _cell_mean(greyish.astype(np.float32), cols, rows)

    def _smoke_persistent(self, t: float) -> Mask:
        cfg = self.config
        window = self._window(t, cfg.smoke_window_s)
        if len(window) < cfg.min_samples * 2:
            return np.zeros(self._state.samples[-1].smoke.shape, bool)
        share = np.stack([s.smoke for s in window])
        activity = np.stack([s.activity for s in window]).mean(axis=0)
        cells = (
            ((share >= 0.5).mean(axis=0) >= cfg.smoke_min_share)
            & (share.mean(axis=0) >= 0.5)
            & (activity >= cfg.smoke_min_activity)  # smoke churns; a static ghost does not
        )
        if self._ignore is not None and self._ignore.shape == cells.shape:
            cells &= ~self._ignore
        result: Mask = cells
        return result

    def _regions(
        self, cells: Mask, strength: Grid | None, mask: Image | None, t: float, *, fire: bool
    ) -> list[Region]:
        cfg, st = self.config, self._state
        rows, cols = cells.shape
        if fire:
            since = st.fire_since if st.fire_since is not None else np.full(cells.shape, np.nan)
            since = np.where(cells, np.where(np.isnan(since), t, since), np.nan)
            st.fire_since = since.astype(np.float32)
            total = float(cells.mean())
            st.area_history.append((t, total))
            while st.area_history and st.area_history[0][0] < t - cfg.growth_horizon_s:
                st.area_history.popleft()
        if not cells.any():
            return []
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            cells.astype(np.uint8), connectivity=8
        )
        regions: list[Region] = []
        for label in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[label])
            if fire and area < 1:
                continue
            if not fire and area < 4:
                continue  # smoke needs a patch, not a speck
            box = self._box(x, y, w, h, cols, rows, mask, labels == label)
            confidence = (
                self._fire_confidence(labels == label, strength, t)
                if fire and strength is not None
                else min(0.6, 0.3 + 0.02 * area)
            )
            regions.append(Region(box=box, confidence=round(confidence, 3), area=area / cells.size))
        return regions

    def _box(
        self, x: int, y: int, w: int, h: int, cols: int, rows: int, mask: Image | None, comp: Mask
    ) -> Box:
        cell = self.config.cell
        px0, py0, px1, py1 = x * cell, y * cell, (x + w) * cell, (y + h) * cell
        if mask is not None:
            grown = cv2.dilate(comp.astype(np.uint8), np.ones((3, 3), np.uint8))
            region = cv2.resize(grown, (cols * cell, rows * cell), interpolation=cv2.INTER_NEAREST)
            ys, xs = np.nonzero(region & mask)
            if len(xs):
                px0, py0, px1, py1 = (
                    int(xs.min()),
                    int(ys.min()),
                    int(xs.max()) + 1,
                    int(ys.max()) + 1,
                )
        width, height = cols * cell, rows * cell
        return Box(x=px0 / width, y=py0 / height, w=(px1 - px0) / width, h=(py1 - py0) / height)

    def _fire_confidence(self, comp: Mask, strength: Grid, t: float) -> float:
        st = self._state
        flick = float(strength[comp].mean())
        since = st.fire_since[comp] if st.fire_since is not None else np.array([t])
        age = float(t - np.nanmin(since)) if np.isfinite(since).any() else 0.0
        areas = [a for _, a in st.area_history if a > 0]
        growth = (areas[-1] / min(areas)) if areas else 1.0
        score = (
            0.45
            + 0.25 * min(1.0, flick / 20.0)
            + 0.15 * min(1.0, age / 5.0)
            + 0.10 * min(1.0, max(0.0, growth - 1.0))
            + 0.05 * min(1.0, float(comp.sum()) / 6.0)
        )
        return min(0.97, score)
