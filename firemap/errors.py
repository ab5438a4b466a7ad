"""Errors raised by the firefighting safety map.

Every data error names the file and, where there is one, the line (1-based, header = line 1)
and the field, so an operator can open the file and fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from goldentime.errors import ContractError, DataError, GoldenTimeError


class FiremapError(GoldenTimeError):
    """Root of the errors raised by `firemap`."""


@dataclass(frozen=True)
class Reject:
    """One input row that could not be loaded, and why."""

    file: str
    line: int | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.field is not None:
            where += f", field {self.field!r}"
        return f"{where}: {self.reason}"


class FiremapDataError(DataError, FiremapError):
    """A layer file cannot be used: bad encoding, CRS, columns, or a bad row (strict mode)."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | Path,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reject = Reject(file=str(file), line=line, field=field, reason=reason)
        super().__init__(str(self.reject))
        self.file = str(file)
        self.line = line
        self.field = field
        self.reason = reason


class FiremapQueryError(ContractError, FiremapError):
    """A query to the map is invalid (for example a point outside Seoul)."""
