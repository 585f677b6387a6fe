"""JSON from outside, read strictly: UTF-8 only, no NaN or Infinity, and no text a database cannot store.

Two things valid JSON can carry that no caseloop column can hold, both only
as \\u escapes: NUL (PostgreSQL text refuses U+0000) and half of a surrogate
pair (\\ud800-\\udfff alone is no character; UTF-8 cannot encode it, so the
driver fails on either database). They are refused here, at the door, with
an error of their own, instead of failing the write later.
"""

from __future__ import annotations

import json
from typing import Any


class UnstorableText(ValueError):
    """A string of the document holds what no database text can store."""

    code = "unstorable_text"


class NulInText(UnstorableText):
    code = "nul_in_text"


class LoneSurrogateInText(UnstorableText):
    code = "lone_surrogate_in_text"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _refuse_unstorable(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise NulInText("Text cannot contain NUL characters.")
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise LoneSurrogateInText(
                        "Text cannot contain half of a surrogate pair (a lone \\ud800-\\udfff escape)."
                    ) from exc
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def loads(raw: bytes | str) -> Any:
    """The document in `raw`; ValueError (UnicodeDecodeError, JSONDecodeError, UnstorableText) when refused.

    Bytes are decoded as UTF-8 first: json.loads on bytes would also guess UTF-16 or 32.
    """
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    data = json.loads(text, parse_constant=_refuse_constant)
    # a \u escape is the only way JSON carries NUL or a lone surrogate: most documents skip the walk
    lowered = text.lower() if "\\u" in text else ""
    if "\\u0000" in lowered or "\\ud" in lowered:
        _refuse_unstorable(data)
    return data
