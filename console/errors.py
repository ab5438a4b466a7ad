"""Console errors, rooted in :class:`goldentime.errors.GoldenTimeError`."""

from __future__ import annotations

from goldentime.errors import ConfigError, GoldenTimeError


class ConsoleError(GoldenTimeError):
    """Something the console cannot do."""


class AccountError(ConsoleError):
    """A user account cannot be created, found or used (the message names the user)."""


class AuthConfigError(ConfigError):
    """The console's authentication settings are invalid (the message names the variable)."""
