"""One thread per camera: read, relay, analyse, reconnect with backoff; and their supervisor."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2

from goldentime.clock import Clock, SystemClock
from goldentime.contracts.video import CameraHealth, CameraState
from video_relay.errors import GarbageFrameError, SourceError
from video_relay.live import FrameHub
from video_relay.media import encode_jpeg
from video_relay.pipeline import CameraPipeline
from video_relay.sources import Backoff, FrameSource

log = logging.getLogger(__name__)
SourceFactory = Callable[[], FrameSource]


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    live_fps: float = 10.0
    max_garbage_frames: int = 25
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0


class CameraWorker:
    """Reads one camera in its own thread until stopped; never lets an error escape."""

    def __init__(
        self,
        pipeline: CameraPipeline,
        source_factory: SourceFactory,
        *,
        hub: FrameHub,
        options: WorkerOptions | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.pipeline, self.camera = pipeline, pipeline.camera
        self._factory, self._hub = source_factory, hub
        self._opts = options or WorkerOptions()
        self._clock = clock or SystemClock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_read = 0
        self.reconnects = 0
        self.last_error: str | None = None
        hub.register(self.camera.id)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, name=f"camera-{self.camera.id}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self) -> None:
        backoff = Backoff(base_s=self._opts.backoff_base_s, cap_s=self._opts.backoff_cap_s)
        while not self._stop.is_set():
            source = self._factory()
            try:
                source.open()
                backoff.reset()
                self._read(source)
            except SourceError as err:
                self._failed(str(err))
            except cv2.error as err:
                self._failed(f"OpenCV error: {err}")
            finally:
                source.close()
            if self._stop.is_set():
                break
            self._hub.mark(self.camera.id, "reconnecting")
            self.reconnects += 1
            self._wait(backoff.next_delay())

    def _failed(self, reason: str) -> None:
        if reason != self.last_error:
            log.warning("camera %s: %s", self.camera.id, reason)
        self.last_error = reason
        self.pipeline.no_frame(reason=reason)

    def _wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stop.is_set() and (left := deadline - time.monotonic()) > 0:
            self._stop.wait(min(1.0, left))
            self.pipeline.no_frame(reason=self.last_error or "reconnecting")

    def _read(self, source: FrameSource) -> None:
        analyse_every = 1.0 / self.pipeline.config.fps
        live_every = 1.0 / self._opts.live_fps
        last_analysed: float | None = None
        last_live = -1e9
        garbage = 0
        size = (self.pipeline.config.width, self.pipeline.config.height)
        while not self._stop.is_set():
            t = source.grab()
            self.frames_read += 1
            mono = time.monotonic()
            if last_analysed is not None and t < last_analysed:
                last_analysed = None  # the file looped or the stream restarted
            due_analysis = last_analysed is None or t - last_analysed >= analyse_every * 0.95
            due_live = mono - last_live >= live_every
            if not (due_analysis or due_live):
                continue
            try:
                frame = source.retrieve()
            except GarbageFrameError as err:
                garbage += 1
                if garbage >= self._opts.max_garbage_frames:
                    raise SourceError(f"{garbage} garbage frames in a row: {err}") from err
                continue
            garbage = 0
            self.last_error = None
            image = cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA)
            if due_live:
                last_live = mono
                self._hub.put(self.camera.id, encode_jpeg(image, quality=75))
            if due_analysis:
                last_analysed = t
                self.pipeline.analyse(image, t)

    def health(self) -> CameraHealth:
        active = sorted(self.pipeline.health.active())
        state = (
            CameraState.OFFLINE
            if "offline" in active
            else CameraState.DEGRADED
            if active
            else CameraState.OK
            if self.pipeline.frames_analysed
            else CameraState.STARTING
        )
        return CameraHealth(
            id=self.camera.id,
            at=self._clock.now(),
            camera_id=self.camera.id,
            state=state,
            problems=active,
            frames_read=self.frames_read,
            frames_analysed=self.pipeline.frames_analysed,
            reconnects=self.reconnects,
            last_error=(self.last_error or None) and self.last_error[:1000],
        )


class Supervisor:
    """Starts every worker and restarts any whose thread died (a bug, not a camera fault)."""

    def __init__(self, workers: list[CameraWorker], *, check_every_s: float = 1.0) -> None:
        self.workers = {w.camera.id: w for w in workers}
        self._check_every = check_every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="video-supervisor", daemon=True)
        self.restarts = 0

    def start(self) -> None:
        for worker in self.workers.values():
            worker.start()
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self._check_every):
            for worker in self.workers.values():
                if not worker.alive and not self._stop.is_set():
                    log.error("camera %s: worker thread died; restarting", worker.camera.id)
                    self.restarts += 1
                    worker.start()

    def stop(self, *, timeout: float = 10.0) -> None:
        self._stop.set()
        for worker in self.workers.values():
            worker.stop()
        deadline = time.monotonic() + timeout
        for worker in self.workers.values():
            worker.join(max(0.1, deadline - time.monotonic()))
