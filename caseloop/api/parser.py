"""Request bodies are strict JSON in UTF-8."""

from __future__ import annotations

import json
from typing import Any, cast

from django.http import HttpRequest
from ninja.parser import Parser
from ninja.types import DictStrAny


class NulInText(ValueError):
    """A string of the body holds U+0000, which PostgreSQL text cannot store."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _refuse_nul(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise NulInText("text cannot contain NUL characters")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


class StrictJSONParser(Parser):
    """UTF-8 only (json.loads on bytes would also guess UTF-16/32), no NaN or Infinity, no NUL in text.

    ninja wraps any exception raised here in a 400 HttpError whose cause tells
    `caseloop.api.problems` which problem it was.
    """

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        text = request.body.decode("utf-8")
        data = json.loads(text, parse_constant=_refuse_constant)
        if "\\u0000" in text:  # the only way JSON can carry NUL; skip the walk otherwise
            _refuse_nul(data)
        return cast(DictStrAny, data)
