"""Request bodies are strict JSON in UTF-8 (core.strictjson)."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from ninja.parser import Parser
from ninja.types import DictStrAny

from caseloop.core import strictjson


class StrictJSONParser(Parser):
    """UTF-8 only, no NaN or Infinity, no NUL and no lone surrogate in text.

    ninja wraps any exception raised here in a 400 HttpError whose cause tells
    `caseloop.api.problems` which problem it was.
    """

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        return cast(DictStrAny, strictjson.loads(request.body))
