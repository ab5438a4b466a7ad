"""Validate CAP documents: the OASIS XML schema (1.1 or 1.2) and the publishing profile.

The schema decides whether a document is CAP. The profile (Google Public Alerts rules plus
ours) decides whether *we* may publish it: ``event`` under 35 characters, no ``Unknown``
urgency/severity/certainty, ``references`` on Update/Cancel, ``sent`` with a numeric offset,
at least one area per info. Real third-party alerts may break the profile and still be CAP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from alerts.cap import Alert, Certainty, MsgType, Severity, Urgency
from alerts.capxml import cap_version, safe_parse_xml, to_model
from alerts.errors import CapInvalidError, CapRefusedError

MAX_EVENT_CHARS = 34  # Google Public Alerts: event "< 35 characters"
_SENT_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What a CAP document is and what is wrong with it."""

    version: str | None
    schema_errors: list[str] = field(default_factory=list)
    profile_errors: list[str] = field(default_factory=list)
    alert: Alert | None = None

    @property
    def schema_valid(self) -> bool:
        return self.version is not None and not self.schema_errors

    @property
    def publishable(self) -> bool:
        return self.schema_valid and not self.profile_errors


def default_schema_dir() -> Path:
    from goldentime.settings import load_settings

    return load_settings().data.seoul_dir / "cap"


@lru_cache(maxsize=8)
def _schema(path: Path) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.XMLSchema(etree.parse(str(path), parser))
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as err:
        raise CapRefusedError(f"cannot load CAP schema {path}: {err}") from err


def schema_errors(root: Any, version: str, *, schema_dir: Path | None = None) -> list[str]:
    """Errors of ``root`` against the OASIS schema of ``version`` (line: message)."""
    directory = schema_dir or default_schema_dir()
    schema = _schema(directory / ("cap12.xsd" if version == "1.2" else "cap11.xsd"))
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def profile_errors(alert: Alert) -> list[str]:
    """Profile rules a publishable alert must meet (empty list: fine)."""
    problems: list[str] = []
    from alerts.capxml import format_time

    if not _SENT_WITH_OFFSET.match(format_time(alert.sent)):
        problems.append("sent: must use a numeric timezone offset")
    if alert.msg_type in (MsgType.UPDATE, MsgType.CANCEL) and not alert.references:
        problems.append(f"references: required on msgType {alert.msg_type.value}")
    for ref in alert.references:
        if ref.count(",") != 2:
            problems.append(f"references: {ref!r} is not sender,identifier,sent")
    if not alert.infos:
        problems.append("info: at least one <info> block is required")
    for index, info in enumerate(alert.infos):
        where = f"info[{index}] ({info.language})"
        if len(info.event) > MAX_EVENT_CHARS:
            problems.append(
                f"{where}.event: {len(info.event)} characters, must be under 35: {info.event!r}"
            )
        if info.urgency is Urgency.UNKNOWN:
            problems.append(f"{where}.urgency: Unknown is not allowed")
        if info.severity is Severity.UNKNOWN:
            problems.append(f"{where}.severity: Unknown is not allowed")
        if info.certainty is Certainty.UNKNOWN:
            problems.append(f"{where}.certainty: Unknown is not allowed")
        if not info.areas:
            problems.append(f"{where}.area: at least one area is required")
        if not info.headline and not info.description:
            problems.append(f"{where}: a headline or description is required")
    return problems


def validate_document(data: bytes, *, schema_dir: Path | None = None) -> ValidationReport:
    """Validate CAP bytes. Raises CapRefusedError for unreadable or unsafe input."""
    root = safe_parse_xml(data)
    try:
        version = cap_version(root)
    except CapInvalidError as err:
        return ValidationReport(version=None, schema_errors=err.reasons)
    errors = schema_errors(root, version, schema_dir=schema_dir)
    try:
        alert = to_model(root)
    except CapInvalidError as err:
        return ValidationReport(version=version, schema_errors=errors or err.reasons)
    return ValidationReport(
        version=version, schema_errors=errors, profile_errors=profile_errors(alert), alert=alert
    )


def require_publishable(data: bytes, *, schema_dir: Path | None = None) -> Alert:
    """The alert if it is schema-valid and meets the profile; CapInvalidError otherwise."""
    report = validate_document(data, schema_dir=schema_dir)
    if not report.publishable or report.alert is None:
        raise CapInvalidError(report.schema_errors + report.profile_errors)
    return report.alert
