"""Motion by background subtraction (MOG2) on a small grey frame, and zone geometry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from goldentime.contracts.video import Box
from video_relay.registry import Zone

Image = npt.NDArray[Any]
MOTION_WIDTH = 160


def zone_mask(zone: Zone, *, width: int, height: int) -> npt.NDArray[Any]:
    """Rasterise a normalised zone polygon onto a width x height grid."""
    canvas = np.zeros((height, width), np.uint8)
    points = np.array([[round(x * (width - 1)), round(y * (height - 1))] for x, y in zone.polygon])
    cv2.fillPoly(canvas, [points.astype(np.int32)], 1)
    return canvas.astype(bool)


class MotionDetector:
    """MOG2 foreground on a 160 px wide grey frame; per-zone moving share and boxes."""

    def __init__(self, *, zones: Sequence[Zone] = (), min_area_share: float = 0.002) -> None:
        self._zones = list(zones)
        self._min_area = min_area_share
        self._mog = cv2.createBackgroundSubtractorMOG2(
            history=300, varThreshold=25, detectShadows=False
        )
        self._kernel = np.ones((3, 3), np.uint8)
        self._masks: dict[str, npt.NDArray[Any]] = {}
        self._shape: tuple[int, int] | None = None

    def process(self, gray_small: Image) -> tuple[float, dict[str, list[Box]]]:
        """Return (moving share of the frame, boxes per motion zone with movement)."""
        h, w = gray_small.shape
        if self._shape != (h, w):
            self._shape = (h, w)
            self._masks = {z.name: zone_mask(z, width=w, height=h) for z in self._zones}
        fg = self._mog.apply(gray_small)
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, self._kernel)
        moving = fg > 0
        share = float(moving.mean())
        for zone in self._zones:
            if zone.ignore:
                moving &= ~self._masks[zone.name]
        found: dict[str, list[Box]] = {}
        for zone in self._zones:
            if not zone.motion:
                continue
            inside = (moving & self._masks[zone.name]).astype(np.uint8)
            count, _, stats, _ = cv2.connectedComponentsWithStats(inside, connectivity=8)
            boxes = [
                Box(x=x / w, y=y / h, w=bw / w, h=bh / h)
                for x, y, bw, bh, area in (stats[i] for i in range(1, count))
                if area >= self._min_area * w * h
            ]
            if boxes:
                found[zone.name] = boxes[:16]
        return share, found
