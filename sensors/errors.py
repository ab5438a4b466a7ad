"""Errors of the sensors package, rooted in the Golden Time error tree."""

from __future__ import annotations

from goldentime.errors import ContractError, DataError, GoldenTimeError


class SensorError(GoldenTimeError):
    """Something in bridge/tunnel monitoring failed."""


class RegistryError(DataError):
    """The structure/sensor registry cannot be built (file, row and field named)."""


class UnknownSensorError(SensorError):
    """A sensor or structure id that the registry does not know."""


class ReadingRejectedError(ContractError):
    """An input reading refused at the boundary (``reason`` and ``field`` say why)."""


class PublishError(SensorError):
    """The broker did not accept a record."""
