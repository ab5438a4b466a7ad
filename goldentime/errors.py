"""The error tree of Golden Time: one root, so callers can catch everything we raise.

    GoldenTimeError
    ├── ConfigError            settings or a data file cannot be used
    ├── ContractError          a record does not match its wire contract
    ├── BrokerError            the Kafka-protocol broker cannot be started or reached
    ├── StoreError             the incident database failed
    ├── DataError              an input data file is missing, corrupt or incomplete
    └── SupervisorError        a supervised child process cannot be run

Domain packages derive their own errors from these (for example `routing` raises
`RoutingError(GoldenTimeError)`), and convert library errors at their boundary with
``raise ... from err``.
"""

from __future__ import annotations


class GoldenTimeError(Exception):
    """Root of every error raised by Golden Time code."""


class ConfigError(GoldenTimeError):
    """A setting or configuration file is invalid."""


class ContractError(GoldenTimeError):
    """A record does not satisfy its wire contract.

    ``reason`` is a short human-readable explanation that goes to the dead-letter topic.
    """

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class BrokerError(GoldenTimeError):
    """The Kafka-protocol broker cannot be started, reached or configured."""


class StoreError(GoldenTimeError):
    """The incident database failed."""


class DataError(GoldenTimeError):
    """An input data file is missing, corrupt or lacks what is needed."""


class SupervisorError(GoldenTimeError):
    """A supervised child process could not be started or kept alive."""
