"""Errors of the simulation package (all are `GoldenTimeError`s, so the CLI prints one line)."""

from __future__ import annotations

from goldentime.errors import DataError, GoldenTimeError


class SimulationError(GoldenTimeError):
    """A simulation cannot be set up or run as asked."""


class DemandDataError(DataError, SimulationError):
    """A statistics file the call generator needs is missing or malformed."""
