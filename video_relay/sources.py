"""Frame sources: the injectable seam between cameras and analytics.

:class:`FrameSource` is what a camera worker reads. :class:`OpenCVSource` opens RTSP
(``rtsp://``, over TCP), HTTP MJPEG (``http://``) and files with OpenCV's FFmpeg backend, with
open/read timeouts so a dead camera never blocks a worker forever; files can loop and are paced
at their native frame rate like a live camera. :class:`SyntheticSource` plays a synthetic scene.
Every failure is a :class:`~video_relay.errors.SourceError` with the URL and the reason.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from goldentime import retry
from video_relay.errors import GarbageFrameError, SourceError
from video_relay.synthetic import Scene

log = logging.getLogger(__name__)
Image = npt.NDArray[Any]


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded BGR frame and its time in seconds (media time for files, else monotonic)."""

    image: Image
    t: float


class FrameSource(Protocol):
    """Anything a camera worker can read frames from."""

    @property
    def description(self) -> str: ...

    def open(self) -> None: ...

    def grab(self) -> float:
        """Advance one frame without converting it; return its time. Raises SourceError."""
        ...

    def retrieve(self) -> Frame:
        """Convert the last grabbed frame. Raises SourceError on a garbage frame."""
        ...

    def close(self) -> None: ...


def check_image(image: object, *, where: str) -> Image:
    """Reject anything that is not a non-empty 8-bit 3-channel image."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise GarbageFrameError(f"{where}: garbage frame (not an 8-bit image)")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 16 or image.shape[1] < 16:
        raise GarbageFrameError(f"{where}: garbage frame of shape {image.shape}")
    return image


def redact(url: str) -> str:
    """Hide credentials in rtsp://user:pass@host URLs before logging them."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


class OpenCVSource:
    """RTSP, HTTP MJPEG or file through ``cv2.VideoCapture`` (FFmpeg backend)."""

    def __init__(
        self,
        url: str,
        *,
        loop: bool = False,
        pace: bool | None = None,
        open_timeout_s: float = 8.0,
        read_timeout_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.is_file = "://" not in url
        self.loop = loop and self.is_file
        self.pace = self.is_file if pace is None else pace
        self._open_ms = int(open_timeout_s * 1000)
        self._read_ms = int(read_timeout_s * 1000)
        self._sleep, self._monotonic = sleep, monotonic
        self._cap: cv2.VideoCapture | None = None
        self._fps = 0.0
        self._index = 0
        self._offset = 0.0
        self._started = 0.0

    @property
    def description(self) -> str:
        return redact(self.url)

    @property
    def fps(self) -> float:
        return self._fps

    def open(self) -> None:
        self.close()
        if self.is_file and not Path(self.url).is_file():
            raise SourceError(f"{self.url}: no such video file")
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            self._open_ms,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            self._read_ms,
        ]
        try:
            cap = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
        except cv2.error as err:
            raise SourceError(f"{self.description}: OpenCV cannot open: {err}") from err
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                f"{self.description}: cannot open (unreachable, refused or unsupported codec)"
            )
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._fps = fps if 1.0 <= fps <= 120.0 else 25.0
        self._cap, self._index, self._offset = cap, 0, 0.0
        self._started = self._monotonic()
        log.info("opened %s (%.2f fps)", self.description, self._fps)

    def _media_time(self) -> float:
        return self._offset + self._index / self._fps

    def grab(self) -> float:
        cap = self._require()
        try:
            ok = cap.grab()
            if not ok and self.loop and self._index > 0:
                self._offset = self._media_time()
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                self._index = 0
                ok = cap.grab()
        except cv2.error as err:
            raise SourceError(f"{self.description}: decode failed: {err}") from err
        if not ok:
            what = "end of file" if self.is_file else "no frame (stream stalled or closed)"
            raise SourceError(f"{self.description}: {what}")
        t = self._media_time()
        self._index += 1
        if self.pace:
            wait = self._started + t - self._monotonic()
            if wait > 0:
                self._sleep(wait)
        return t if self.is_file else self._monotonic()

    def retrieve(self) -> Frame:
        cap = self._require()
        try:
            ok, image = cap.retrieve()
        except cv2.error as err:
            raise SourceError(f"{self.description}: cannot convert frame: {err}") from err
        if not ok:
            raise GarbageFrameError(f"{self.description}: garbage frame (retrieve failed)")
        t = self._media_time() if self.is_file else self._monotonic()
        return Frame(check_image(image, where=self.description), t)

    def _require(self) -> cv2.VideoCapture:
        if self._cap is None:
            raise SourceError(f"{self.description}: not open")
        return self._cap

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class SyntheticSource:
    """Plays a deterministic synthetic scene (``synthetic:NAME``) in real time."""

    def __init__(
        self,
        scene: str,
        *,
        fps: float = 10.0,
        width: int = 640,
        height: int = 360,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scene_name, self._fps = scene, fps
        self._size = (width, height)
        self._sleep, self._monotonic = sleep, monotonic
        self._scene: Scene | None = None
        self._index = 0
        self._started = 0.0

    @property
    def description(self) -> str:
        return f"synthetic:{self._scene_name}"

    def open(self) -> None:
        self._scene = Scene(self._scene_name, width=self._size[0], height=self._size[1])
        self._index, self._started = 0, self._monotonic()

    def grab(self) -> float:
        t = self._index / self._fps
        self._index += 1
        wait = self._started + t - self._monotonic()
        if wait > 0:
            self._sleep(wait)
        return t

    def retrieve(self) -> Frame:
        if self._scene is None:
            raise SourceError(f"{self.description}: not open")
        t = (self._index - 1) / self._fps
        return Frame(self._scene.render(t), t)

    def close(self) -> None:
        self._scene = None


def open_source(url: str, *, loop: bool = True) -> FrameSource:
    """The right source for a registry URL (not yet opened)."""
    if url.startswith("synthetic:"):
        return SyntheticSource(url.split(":", 1)[1])
    return OpenCVSource(url, loop=loop)


class Backoff(retry.Backoff):
    """Exponential reconnect delays with jitter: base, 2*base, ... capped at ``cap``, each
    within +-20 % (cameras that dropped together do not reconnect together)."""

    def __init__(
        self, *, base_s: float = 0.5, cap_s: float = 30.0, rng: random.Random | None = None
    ) -> None:
        if base_s <= 0 or cap_s < base_s:
            raise ValueError("need 0 < base_s <= cap_s")
        super().__init__(base_s=base_s, cap_s=cap_s, jitter=0.2, rng=rng)
