"""Errors raised by the alerts package, all under :class:`goldentime.errors.GoldenTimeError`.

AlertError
├── CapRefusedError          the document cannot be read or is refused (entities, DTD, not XML)
├── CapInvalidError          the document is CAP-shaped but breaks the schema or the profile
├── AreaError           an area name, polygon or circle cannot be used
├── TextBudgetError     a message is longer than its class or channel allows
├── WorkflowError       a workflow rule blocks the action (two-person rule, state)
│   └── DuplicateAlertError  same type, overlapping area within 24 h: needs confirmation
├── ChannelError        a channel could not deliver (after its retries)
└── WebhookRejectedError     a webhook failed signature verification or is malformed
"""

from __future__ import annotations

from goldentime.errors import GoldenTimeError


class AlertError(GoldenTimeError):
    """Root of every error raised by the alerts package."""


class CapRefusedError(AlertError):
    """The input cannot be read as XML or is refused for safety (DTD, entities)."""


class CapInvalidError(AlertError):
    """A CAP document that breaks the OASIS schema or the profile; ``reasons`` lists why."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("invalid CAP: " + "; ".join(reasons))
        self.reasons = list(reasons)


class AreaError(AlertError):
    """An area (gu/dong name, polygon, circle) is unknown or malformed."""


class TextBudgetError(AlertError):
    """A text exceeds the character budget of its Korean class or channel."""


class WorkflowError(AlertError):
    """The approval workflow refuses the action."""


class DuplicateAlertError(WorkflowError):
    """A same-type alert for an overlapping area was sent within 24 h; confirm to proceed."""

    def __init__(self, message: str, *, previous_ids: list[str]) -> None:
        super().__init__(message)
        self.previous_ids = previous_ids


class ChannelError(AlertError):
    """A channel failed to deliver after its retries."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class WebhookRejectedError(AlertError):
    """A webhook request is forged (bad signature) or malformed."""
