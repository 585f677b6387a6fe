"""`Idempotency-Key` on POST: a retried create returns the first answer, never a second row.

Two wrappers cooperate. Around the whole operation (auth, parsing, view,
rendering) a transaction is opened when the header is present; inside it, once
the caller is known, the view wrapper looks the key up: a stored answer to the
same request is replayed, a stored key for another request is refused, and an
unknown key is claimed. After rendering, a successful answer is stored in the
same transaction as the create itself, so either both are committed or
neither. A failed answer is not stored (it wrote nothing) and a retry runs
again. An answer marked `Cache-Control: no-store` (one that shows a secret
once, such as a new API token) is never written down: its key keeps a refusal
that says what was made, and a retry gets that refusal, not the secret. Two
concurrent first tries meet at the unique (user, key) constraint; the loser's
transaction is rolled back and it answers as a retry would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from caseloop.api.models import IdempotencyKey
from caseloop.api.problems import PROBLEM_CONTENT_TYPE, problem_body, problem_response
from caseloop.core import clock
from caseloop.core.errors import DomainError, ErrorCode
from caseloop.identity.models import User

logger = logging.getLogger("caseloop.api")

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
KEY_LIFETIME = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 255
_CLAIM_ATTRIBUTE = "_caseloop_idempotency_claim"


class IdempotencyErrorCode(ErrorCode):
    KEY_REUSED = "idempotency_key_reused"
    BAD_KEY = "bad_idempotency_key"
    KEY_IN_USE = "idempotency_key_in_use"
    ANSWER_NOT_KEPT = "idempotent_answer_not_kept"


@dataclass(frozen=True, slots=True)
class _Claim:
    user: User
    key: str
    request_hash: str


def _applies(request: HttpRequest) -> str | None:
    return request.headers.get(HEADER) if request.method == "POST" else None


def _request_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.get_full_path()}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def _replay(stored: IdempotencyKey) -> HttpResponse:
    content_type = PROBLEM_CONTENT_TYPE if stored.status >= 400 else "application/json; charset=utf-8"
    response = HttpResponse(stored.body, status=stored.status, content_type=content_type)
    if stored.location:
        response["Location"] = stored.location
    response[REPLAY_HEADER] = "true"
    return response


def _answer_stored(stored: IdempotencyKey, request_hash: str) -> HttpResponse:
    if stored.request_hash != request_hash:
        raise DomainError(
            IdempotencyErrorCode.KEY_REUSED,
            "This Idempotency-Key was used for a different request; use a new key for a new request.",
            status=422,
        )
    return _replay(stored)


def _lookup(user: User, key: str) -> IdempotencyKey | None:
    """The live stored answer for this key; an expired one is deleted (it still holds the unique slot)."""
    stored = IdempotencyKey.objects.filter(user=user, key=key).first()
    if stored is not None and stored.created_at <= clock.now() - KEY_LIFETIME:
        stored.delete()
        return None
    return stored


def within_view(view_func: Callable[..., Any]) -> Callable[..., Any]:
    """Replay, refuse or claim the key once the caller is authenticated (ninja "operation" mode)."""

    @wraps(view_func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = _applies(request)
        if key is None:
            return view_func(request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            message = f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable characters."
            raise DomainError(IdempotencyErrorCode.BAD_KEY, message, status=400)
        user: User = request.auth  # type: ignore[attr-defined]
        request_hash = _request_hash(request)
        stored = _lookup(user, key)
        if stored is not None:
            return _answer_stored(stored, request_hash)
        setattr(request, _CLAIM_ATTRIBUTE, _Claim(user=user, key=key, request_hash=request_hash))
        return view_func(request, *args, **kwargs)

    return wrapper


def _what_to_keep(response: HttpResponse) -> tuple[int, str]:
    """The status and body a retry will get: the answer itself, or a refusal in place of a secret shown once."""
    body = response.content.decode("utf-8")
    if "no-store" not in response.get("Cache-Control", ""):
        return response.status_code, body
    made = ""
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("id"), int):
        made = f" (id {answer['id']})"
    detail = (f"The first request with this Idempotency-Key succeeded{made}, but its answer showed a secret once "
              "and was not kept. Nothing new was made; revoke what was made if its secret was lost, and ask again "
              "with a new key.")  # fmt: skip
    return 409, json.dumps(problem_body(status=409, code=IdempotencyErrorCode.ANSWER_NOT_KEPT, detail=detail))


def around_operation(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """One transaction for the create and its stored answer (ninja "view" mode: wraps `Operation.run`)."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if _applies(request) is None:
            return run(request, *args, **kwargs)
        try:
            with transaction.atomic():
                response = run(request, *args, **kwargs)
                claim: _Claim | None = getattr(request, _CLAIM_ATTRIBUTE, None)
                if not 200 <= response.status_code < 300:
                    # the error was answered already; whatever the request wrote goes, so a retry starts clean
                    transaction.set_rollback(True)
                elif claim is not None and isinstance(response, HttpResponse):
                    status, body = _what_to_keep(response)
                    IdempotencyKey.objects.create(
                        user=claim.user, key=claim.key, request_hash=claim.request_hash, status=status, body=body,
                        location=response.get("Location", "")[:500], created_at=clock.now(),
                    )  # fmt: skip
        except IntegrityError:
            # only the insert of the key can raise here: `run` answers every other error itself
            claim = getattr(request, _CLAIM_ATTRIBUTE, None)
            stored = _lookup(claim.user, claim.key) if claim is not None else None
            if claim is None or stored is None:
                detail = "Another request with this Idempotency-Key is running; retry."
                return problem_response(status=409, code=IdempotencyErrorCode.KEY_IN_USE, detail=detail)
            try:
                return _answer_stored(stored, claim.request_hash)
            except DomainError as exc:
                return problem_response(status=exc.status, code=str(exc.code), detail=exc.message)
        except Exception:
            # storing the answer failed after the view succeeded; the transaction took both back
            logger.exception("Idempotent %s %s failed", request.method, request.path)
            return problem_response(status=500, code="internal_error",
                                    detail="Something went wrong on our side; it has been logged.")  # fmt: skip
        return response

    return wrapper


def expire_keys(*, older_than: dt.timedelta = KEY_LIFETIME) -> int:
    """Delete stored answers older than `older_than`; returns how many (run daily by a task)."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=clock.now() - older_than).delete()
    return deleted
