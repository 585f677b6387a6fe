"""Every error of the API as RFC 9457 problem+json, from this one module.

A problem carries `type`, `title`, `status`, `detail`, the stable `code` that
clients (and tests) branch on, and `errors` (one entry per field) when the
input was at fault. Handlers are registered on the NinjaAPI for each kind of
failure; the catch-all logs the exception and answers a bare 500 that leaks
nothing about it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any, cast

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from caseloop.core.errors import DomainError
from caseloop.core.strictjson import RefusedDocument

logger = logging.getLogger("caseloop.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"


class FieldProblem(Schema):
    field: str
    code: str
    message: str


class Problem(Schema):
    """The body of every error response (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] | None = None


def problem_type(code: str) -> str:
    # a URN: stable and unique per code, and it does not pretend to be a page that can be fetched
    return f"urn:caseloop:problem:{code}"


def problem_body(
    *, status: int, code: str, detail: str, errors: Sequence[dict[str, str]] | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = list(errors)
    return body


def problem_response(
    *, status: int, code: str, detail: str, errors: Sequence[dict[str, str]] | None = None
) -> HttpResponse:
    body = problem_body(status=status, code=code, detail=detail, errors=errors)
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)


def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    errors = [{"field": exc.field, "code": str(exc.code), "message": exc.message}] if exc.field else None
    return problem_response(status=exc.status, code=str(exc.code), detail=exc.message, errors=errors)


def _field_path(loc: Sequence[Any]) -> str:
    # ninja reports ("body", "payload", "requester", "email") or ("query", "limit"); the client
    # knows neither the source nor our parameter name, only the path inside what it sent
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 and parts[1] == "payload" else parts[1:]
    elif parts and parts[0] in ("query", "path", "header"):
        # a parameter is one name, though a repeatable one (?status=a&status=b) comes as
        # ("filters", "status", 1): our schema's name, the parameter's, and which of its values
        names = [p for p in parts[1:] if isinstance(p, str)]
        parts = names[-1:]
    return ".".join(str(p) for p in parts) or "body"


def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": _field_path(e.get("loc", ())), "code": str(e.get("type", "invalid")), "message": str(e.get("msg"))}
        for e in exc.errors
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem_response(status=422, code="validation_error", detail=f"The request is not valid. {summary}",
                            errors=errors)  # fmt: skip


def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = problem_response(
        status=401,
        code="not_authenticated",
        detail="Send 'Authorization: Bearer <token>' with a valid token, or sign in.",
    )
    response["WWW-Authenticate"] = 'Bearer realm="caseloop"'
    return response


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if exc.status_code == 400 and isinstance(cause, UnicodeDecodeError):
        return problem_response(status=400, code="invalid_utf8", detail="The request body is not valid UTF-8.")
    if exc.status_code == 400 and isinstance(cause, RefusedDocument):
        return problem_response(status=400, code=cause.code, detail=str(cause))
    if exc.status_code == 400 and cause is not None:
        return problem_response(status=400, code="malformed_json", detail="The request body is not valid JSON.")
    status = exc.status_code if 400 <= exc.status_code < 600 else 500
    code = HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    return problem_response(status=status, code=code, detail=str(exc))


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(status=404, code="not_found", detail="There is nothing here.")


def _permission_denied(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
    return problem_response(status=403, code="permission_denied", detail="You are not allowed to do that.")


def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return body_too_large()


def _suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    return problem_response(status=400, code="bad_request", detail="The request was refused as malformed.")


def body_too_large() -> HttpResponse:
    return problem_response(status=413, code="body_too_large", detail="The request body is larger than allowed.")


def _database_refused(request: HttpRequest, exc: Exception) -> HttpResponse:
    # a safety net: input checks should refuse such values first, with the field named
    logger.warning("Database refused a value in %s %s: %s", request.method, request.path, exc)
    return problem_response(status=422, code="invalid_value", detail="A value is out of range or too long.")


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled error in %s %s", request.method, request.path)
    return problem_response(
        status=500,
        code="internal_error",
        detail="Something went wrong on our side; it has been logged.",
    )


def install_handlers(api: NinjaAPI) -> None:
    """Register the handlers; the most specific class of an exception wins (ninja walks its MRO)."""
    handlers: list[tuple[type[Exception], Callable[[HttpRequest, Any], HttpResponse]]] = [
        (DomainError, _domain_error),
        (ValidationError, _validation_error),
        (AuthenticationError, _authentication_error),
        (HttpError, _http_error),
        (Http404, _not_found),
        (DjangoPermissionDenied, _permission_denied),
        (RequestDataTooBig, _too_big),
        (SuspiciousOperation, _suspicious),
        (DataError, _database_refused),
        (OverflowError, _database_refused),  # SQLite: an integer beyond 64 bits
        (Exception, _unexpected),
    ]
    for exc_class, handler in handlers:
        # ninja types a handler as taking the exception or its class; ours take the instance
        api.add_exception_handler(exc_class, cast(Any, handler))
