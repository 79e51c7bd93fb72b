"""The one place where errors become HTTP problems (``application/problem+json``, RFC 9457).

Every 4xx and 5xx the service sends has the same body: ``type, title, status, code,
detail, field`` (and ``hint``, and ``errors`` when there are several). Leadgate errors map
by class; request validation, unknown routes and oversized bodies map here too, and an
unexpected exception becomes a bare 500 whose details go to the log, never to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadgate.exceptions import (
    ConflictError,
    DatabaseNotMigratedError,
    LeadgateError,
    NotFoundError,
    PermissionDeniedError,
    ProblemsError,
    StorageError,
    TransitionError,
)

PROBLEM_JSON: Final = "application/problem+json"
log = logging.getLogger("leadgate.api")

_STATUS: Final[tuple[tuple[type[LeadgateError], int], ...]] = (
    (DatabaseNotMigratedError, 503),
    (NotFoundError, 404),
    (PermissionDeniedError, 403),
    (ConflictError, 409),
    (TransitionError, 409),
    (StorageError, 409),
)
_TITLES: Final = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class ApiProblemError(Exception):
    """A problem raised by the API layer itself (auth, limits, batch size)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        hint: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.hint = hint
        self.headers = dict(headers or {})


def problem_body(
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    hint: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The JSON body of a problem."""
    body: dict[str, Any] = {
        "type": f"urn:leadgate:problem:{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        "field": field,
    }
    if hint:
        body["hint"] = hint
    if errors:
        body["errors"] = list(errors)
    return body


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    hint: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem as a response with the ``application/problem+json`` media type."""
    return JSONResponse(
        problem_body(status, code, detail, field=field, hint=hint, errors=errors),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


_BAD_INPUT_CODES: Final = frozenset({"reason_required", "bad_recheck_date", "unknown_action"})
"""Lifecycle errors about the request itself (422), not about the lead's state (409)."""


def status_of(error: LeadgateError) -> int:
    """The HTTP status for a leadgate error (422 for bad input and anything unlisted)."""
    if error.code in _BAD_INPUT_CODES:
        return 422
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 422


def leadgate_problem(error: LeadgateError) -> JSONResponse:
    """A leadgate error as a problem; located problems become ``errors`` with fields."""
    status = status_of(error)
    if isinstance(error, ProblemsError) and error.problems:
        first = error.problems[0]
        items = [
            {"code": p.code, "detail": p.message, "field": p.location.field or p.path or None}
            for p in error.problems
        ]
        codes = {p.code for p in error.problems}
        return problem_response(
            status,
            first.code if len(codes) == 1 else error.code,
            error.message,
            field=first.location.field or first.path or None,
            hint=first.hint or error.hint or None,
            errors=items if len(items) > 1 else None,
        )
    return problem_response(status, error.code, error.message, hint=error.hint or None)


def _field(loc: Sequence[Any]) -> str | None:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in ("body", "query", "path") else []
    if not parts:
        return None
    text = parts[0]
    for part in parts[1:]:
        text += f"[{part}]" if part.isdigit() else f".{part}"
    return text


def validation_problem(error: RequestValidationError) -> JSONResponse:
    """Malformed JSON → 400; wrong types, unknown or missing fields → 422, each named."""
    errors = list(error.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem_response(
            400,
            "malformed_json",
            "The request body is not valid JSON.",
            hint="Send a JSON object with Content-Type: application/json.",
        )
    items = [
        {
            "code": str(e.get("type", "invalid")),
            "detail": str(e.get("msg", "invalid value")),
            "field": _field(e.get("loc", ())),
        }
        for e in errors[:50]
    ]
    first = items[0] if items else {"code": "invalid", "detail": "invalid request", "field": None}
    return problem_response(
        422,
        "invalid_request",
        f"{first['field'] or 'request'}: {first['detail']}",
        field=first["field"],
        hint="See the schema at /docs; fields are strictly typed and unknown fields refused.",
        errors=items if len(items) > 1 else None,
    )


def install(app: FastAPI) -> None:
    """Register the problem handlers on ``app``."""

    async def on_leadgate(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, LeadgateError)
        return leadgate_problem(error)

    async def on_api(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiProblemError)
        return problem_response(
            error.status,
            error.code,
            error.detail,
            field=error.field,
            hint=error.hint,
            headers=error.headers,
        )

    async def on_validation(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return validation_problem(error)

    async def on_http(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        code = {404: "no_such_route", 405: "method_not_allowed"}.get(error.status_code, "http")
        return problem_response(
            error.status_code,
            code,
            str(error.detail),
            headers=getattr(error, "headers", None),
        )

    async def on_crash(request: Request, error: Exception) -> JSONResponse:
        route = getattr(request.scope.get("route"), "path", "?")
        # the type and route only: messages and tracebacks may hold request data
        log.error("unhandled %s on %s %s", type(error).__name__, request.method, route)
        return problem_response(
            500, "internal", "The service failed to handle the request.", hint="Try again."
        )

    app.add_exception_handler(LeadgateError, on_leadgate)
    app.add_exception_handler(ApiProblemError, on_api)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


PROBLEM_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    status: {
        "model": None,
        "description": _TITLES[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemPublic"}}},
    }
    for status in (400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503)
}
"""The problems every route may answer, for the OpenAPI schema."""


__all__ = [
    "PROBLEM_JSON",
    "PROBLEM_RESPONSES",
    "ApiProblemError",
    "install",
    "leadgate_problem",
    "problem_body",
    "problem_response",
    "status_of",
]
