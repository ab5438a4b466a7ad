"""The error answers every console operation can give, written into its OpenAPI document.

Some answers come from layers around the routes rather than from the routes themselves: the
access guard (401 without credentials, 403 for a role, a CSRF token or another crew's unit),
the database handler (503 with the reason, retry), FastAPI's body parsing (400 for a body that
is not UTF-8 JSON, 422 naming the field), a lookup by id (404), and the alert service (409 for
a duplicate or a workflow conflict, 502 when a channel failed). The schemathesis fuzz
(tests/integration/console/test_openapi_fuzz.py) checks that every answer is documented and
matches its schema; this module is where the shared ones are declared, once.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from console.roles import is_public

ERROR_SCHEMA_NAME = "ErrorDetail"
ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "description": "Why the request was refused: `detail` (a sentence, or an object with "
    "`error` and context), or `error` (the alert webhook).",
    "properties": {"detail": {}, "error": {"type": "string"}},
}
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
VALIDATION_REF = {"$ref": "#/components/schemas/HTTPValidationError"}

COMMON: dict[str, str] = {
    "503": "The incident database is unavailable, or the console is stopping: retry later "
    "(Retry-After when given).",
}
GUARDED: dict[str, str] = {
    "401": "No valid session or API token.",
    "403": "Signed in, but not allowed: role, CSRF token or another crew's unit.",
}
ALERT_SERVICE: dict[str, str] = {
    "409": "A duplicate warning, or a step the workflow does not allow now.",
    "502": "A delivery channel failed.",
}
WEBHOOK: dict[str, str] = {
    "403": "The X-Twilio-Signature does not match.",
    "404": "No Twilio webhook is configured here.",
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _document(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    extra = dict(COMMON)
    if not is_public(method.upper(), path):
        extra |= GUARDED
    if path == "/hooks/twilio/status":
        extra |= WEBHOOK
    if "{" in path:
        extra["404"] = "No such record (yet): the id is unknown."
    if path.startswith("/api/alerts"):
        extra |= ALERT_SERVICE
    if method in {"post", "put", "patch"}:
        extra["400"] = "The body could not be decoded (not UTF-8 JSON)."
    for code, description in extra.items():
        responses.setdefault(code, _error(description))
    if method in {"post", "put", "patch"} or operation.get("parameters"):
        # FastAPI's field errors, or a service's reason (an area, a text budget, a reading)
        schema = {"anyOf": [VALIDATION_REF, ERROR_REF]}
        responses["422"] = {
            "description": "Invalid request: the fields and why, or the reason.",
            "content": {"application/json": {"schema": schema}},
        }


def document_errors(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare the shared error answers of every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = document.setdefault("components", {}).setdefault("schemas", {})
            components[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
            components.setdefault(
                "HTTPValidationError",
                {"title": "HTTPValidationError", "type": "object", "properties": {"detail": {}}},
            )
            for path, item in document.get("paths", {}).items():
                for method, operation in item.items():
                    _document(path, method, operation)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
