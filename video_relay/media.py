"""Snapshots (JPEG) and short clips (MPEG-4) of events, stored under one directory."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy.typing as npt

from goldentime.contracts.video import Box

log = logging.getLogger(__name__)
Image = npt.NDArray[Any]
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def safe_name(text: str) -> str:
    return _SAFE.sub("_", text)


def draw_boxes(image: Image, boxes: Sequence[Box], *, colour: tuple[int, int, int]) -> Image:
    out = image.copy()
    h, w = out.shape[:2]
    for b in boxes:
        p0 = (round(b.x * w), round(b.y * h))
        p1 = (round((b.x + b.w) * w), round((b.y + b.h) * h))
        cv2.rectangle(out, p0, p1, colour, 2)
    return out


def encode_jpeg(image: Image, *, quality: int = 80) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(buf.tobytes())


class MediaStore:
    """Writes snapshots and clips; returns (relative ref, URL) for the event record."""

    def __init__(self, root: Path, *, base_url: str = "") -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")

    def _path(self, camera_id: str, name: str) -> tuple[Path, str]:
        ref = f"{safe_name(camera_id)}/{safe_name(name)}"
        path = self.root / ref
        path.parent.mkdir(parents=True, exist_ok=True)
        return path, ref

    def url(self, ref: str) -> str | None:
        return f"{self.base_url}/media/{ref}" if self.base_url else None

    def snapshot(self, camera_id: str, name: str, image: Image) -> str | None:
        path, ref = self._path(camera_id, f"{name}.jpg")
        try:
            path.write_bytes(encode_jpeg(image, quality=85))
        except (OSError, ValueError) as err:
            log.error("camera %s: cannot store snapshot %s: %s", camera_id, path, err)
            return None
        return ref

    def clip(self, camera_id: str, name: str, frames: Sequence[Image], fps: float) -> str | None:
        if not frames:
            return None
        path, ref = self._path(camera_id, f"{name}.mp4")
        h, w = frames[0].shape[:2]
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
        if not writer.isOpened():
            log.error("camera %s: cannot write clip %s", camera_id, path)
            return None
        try:
            for frame in frames:
                if frame.shape[:2] == (h, w):
                    writer.write(frame)
        finally:
            writer.release()
        return ref
