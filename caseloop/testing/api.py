"""A test client for /api/v1 that authenticates with a bearer token (tests only).

It imports identity alone, so that the tests of a low domain can use it
without depending on the domains above (the layer contract covers tests too).
"""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from caseloop.identity.actions import create_token
from caseloop.identity.models import User

PREFIX = "/api/v1"


class ApiClient:
    """`client.get("/cases")` → GET /api/v1/cases as `user`; bodies are sent as JSON."""

    def __init__(self, user: User | None) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        if user is not None:
            self.headers["Authorization"] = f"Bearer {create_token(user=user, name='test').plain}"

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {**self.headers, **(extra or {})}

    def get(self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(PREFIX + path, params or {}, headers=self._headers(headers))

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(PREFIX + path, data, content_type="application/json", headers=self._headers(headers))

    def patch(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None
    ) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.patch(PREFIX + path, data, content_type="application/json", headers=self._headers(headers))

    def put(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        data = json.dumps(body if body is not None else {})
        return self.client.put(PREFIX + path, data, content_type="application/json", headers=self._headers(headers))

    def delete(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.delete(PREFIX + path, headers=self._headers(headers))
