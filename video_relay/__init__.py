"""CCTV and disaster-video relay: ingest, fire/smoke/motion and camera-health analytics, relay.

Cameras (a :class:`~video_relay.registry.Camera` registry) are read through the
:class:`~video_relay.sources.FrameSource` seam (RTSP, HTTP MJPEG, files, synthetic scenes),
one supervised thread per camera that reconnects with backoff. Each camera's
:class:`~video_relay.pipeline.CameraPipeline` analyses a low-resolution stream (default 5 fps,
640x360) and publishes :class:`~goldentime.contracts.video.VideoEvent` records (new / update /
end, advisory confidence, boxes, snapshot and clip) through a
:class:`~video_relay.publisher.EventPublisher` (Kafka topic ``video.events``). The relay
(:func:`~video_relay.relay.create_app`) serves live MJPEG and snapshots to the console.
"""

from video_relay.errors import GarbageFrameError, RegistryError, SourceError, VideoError
from video_relay.evaluation import EvalReport, evaluate_file, evaluate_negatives, load_truth
from video_relay.fire import FireConfig, FireSmokeDetector, Region
from video_relay.health import HealthConfig, HealthMonitor
from video_relay.live import FrameHub
from video_relay.media import MediaStore
from video_relay.pipeline import AnalysisConfig, CameraPipeline
from video_relay.publisher import EventPublisher
from video_relay.registry import Camera, Zone, default_registry, load_registry
from video_relay.relay import create_app
from video_relay.sources import Backoff, Frame, FrameSource, OpenCVSource, SyntheticSource
from video_relay.worker import CameraWorker, Supervisor, WorkerOptions

__all__ = [
    "AnalysisConfig",
    "Backoff",
    "Camera",
    "CameraPipeline",
    "CameraWorker",
    "EvalReport",
    "EventPublisher",
    "FireConfig",
    "FireSmokeDetector",
    "Frame",
    "FrameHub",
    "FrameSource",
    "GarbageFrameError",
    "HealthConfig",
    "HealthMonitor",
    "MediaStore",
    "OpenCVSource",
    "Region",
    "RegistryError",
    "SourceError",
    "Supervisor",
    "SyntheticSource",
    "VideoError",
    "WorkerOptions",
    "Zone",
    "create_app",
    "default_registry",
    "evaluate_file",
    "evaluate_negatives",
    "load_registry",
    "load_truth",
]
