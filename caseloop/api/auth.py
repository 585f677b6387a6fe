"""Who is calling: a bearer token, else the browser's session.

A token costs one indexed query (the token row joined to its user), or none
while the token and user tables are unchanged since this process last read it
(identity.actions, core.stamps). The
session is tried only when no valid token was sent, and a session-authenticated
unsafe request must carry Django's CSRF token: a page on another site can make
the browser send the session cookie, but cannot read the CSRF cookie.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from caseloop.core.errors import DomainError, ErrorCode
from caseloop.identity.actions import authenticate_token
from caseloop.identity.models import User

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class AuthErrorCode(ErrorCode):
    CSRF_FAILED = "csrf_failed"


class BearerToken(HttpBearer):
    """`Authorization: Bearer cl_…` with a token from `POST /api/v1/tokens` or `caseloop token create`."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return authenticate_token(token.strip())


class BrowserSession(APIKeyCookie):
    """The signed-in user of the web UI, with CSRF enforced on unsafe methods."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        # ninja's cookie auth would check CSRF before knowing whether a session exists, turning an
        # anonymous POST into a 403; here it is checked only once the session has identified someone
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if key is None:
            return None
        user = request.user
        if not user.is_authenticated or not user.is_active:
            return None
        if request.method not in _SAFE_METHODS and check_csrf(request) is not None:
            raise DomainError(
                AuthErrorCode.CSRF_FAILED,
                "CSRF check failed: send the X-CSRFToken header with the csrftoken cookie's value.",
                status=403,
            )
        return user


AUTH = [BearerToken(), BrowserSession()]
