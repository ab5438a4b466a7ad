"""The latest JPEG of every camera, shared by all viewers of the relay."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from video_relay.media import encode_jpeg


@dataclass(frozen=True, slots=True)
class LiveFrame:
    jpeg: bytes
    seq: int
    status: str  # "live", "reconnecting", "starting"


def placeholder_jpeg(text: str, *, width: int = 640, height: int = 360) -> bytes:
    image = np.zeros((height, width, 3), np.uint8)
    cv2.putText(
        image, text[:60], (20, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (200, 200, 200), 2
    )
    return encode_jpeg(image)


class FrameHub:
    """Thread-safe latest frame per camera; a reconnecting camera keeps its last frame."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frames: dict[str, LiveFrame] = {}

    def register(self, camera_id: str) -> None:
        with self._lock:
            if camera_id not in self._frames:
                jpeg = placeholder_jpeg(f"{camera_id}: connecting")
                self._frames[camera_id] = LiveFrame(jpeg, 0, "starting")

    def put(self, camera_id: str, jpeg: bytes) -> None:
        with self._lock:
            seq = self._frames[camera_id].seq + 1 if camera_id in self._frames else 1
            self._frames[camera_id] = LiveFrame(jpeg, seq, "live")

    def mark(self, camera_id: str, status: str) -> None:
        with self._lock:
            frame = self._frames.get(camera_id)
            if frame is not None:
                self._frames[camera_id] = LiveFrame(frame.jpeg, frame.seq, status)

    def get(self, camera_id: str) -> LiveFrame | None:
        with self._lock:
            return self._frames.get(camera_id)

    def cameras(self) -> list[str]:
        with self._lock:
            return sorted(self._frames)
