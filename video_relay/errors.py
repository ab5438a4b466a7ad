"""Errors of the video relay, rooted in the Golden Time error tree."""

from __future__ import annotations

from goldentime.errors import ConfigError, DataError, GoldenTimeError


class VideoError(GoldenTimeError):
    """Root of the errors raised by ``video_relay``."""


class RegistryError(VideoError, ConfigError):
    """The camera registry file is missing or invalid (names the file, row and field)."""


class SourceError(VideoError):
    """A video source cannot be opened or read (unreachable, wrong codec, garbage frames)."""


class TruthError(VideoError, DataError):
    """A ground-truth file cannot be read."""


class GarbageFrameError(SourceError):
    """A decoded frame is not a usable image (corrupt stream, wrong pixel format)."""
