"""JSON from outside, read strictly: UTF-8 only, no NaN or Infinity, and nothing a database cannot store.

Three things valid JSON can carry that no caseloop column can hold: NUL
(PostgreSQL text refuses U+0000) and half of a surrogate pair (\\ud800-\\udfff
alone is no character; UTF-8 cannot encode it, so the driver fails on either
database), both only as \\u escapes, and a number beyond a double's range
(1e999 reads as infinity). They are refused here, at the door, with an error
of their own, instead of failing the write later.

Arrays or objects nested too deeply for the parser (it recurses, so a few
kilobytes of "[" exhaust Python's stack) are refused as TooDeep.

A key given twice in one object is refused too: Python's parser keeps the last
value silently, so `{"direction": "note", …, "direction": "inbound"}` would turn
an internal note into a message the customer sees without anyone noticing.
"""

from __future__ import annotations

import json
import math
from typing import Any


class RefusedDocument(ValueError):
    """Valid JSON that caseloop refuses to read; `code` names why."""

    code = "refused_document"


class DuplicateKey(RefusedDocument):
    code = "duplicate_key"


class TooDeep(RefusedDocument):
    """Arrays and objects nested deeper than the parser can follow (it recurses: Python's stack is the limit)."""

    code = "too_deeply_nested"


class UnstorableValue(RefusedDocument):
    """The document holds a value no database column can store."""

    code = "unstorable_value"


class NulInText(UnstorableValue):
    code = "nul_in_text"


class LoneSurrogateInText(UnstorableValue):
    code = "lone_surrogate_in_text"


class NumberOutOfRange(UnstorableValue):
    code = "number_out_of_range"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NumberOutOfRange(f"The number {text[:40]} is too large to store.")
    return value


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(f"The key {key[:60]!r} appears twice in one object.")
            seen.add(key)
    return obj


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
    """The document in `raw`; ValueError (UnicodeDecodeError, JSONDecodeError, RefusedDocument) when refused.

    Bytes are decoded as UTF-8 first: json.loads on bytes would also guess UTF-16 or 32.
    """
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    try:
        data = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float, object_pairs_hook=_object_without_repeats
        )
    except RecursionError as exc:  # "[" * 5000: small, valid-looking, and an uncaught RecursionError is a 500
        raise TooDeep("The document is nested too deeply.") from exc
    # a \u escape is the only way JSON carries NUL or a lone surrogate: most documents skip the walk
    lowered = text.lower() if "\\u" in text else ""
    if "\\u0000" in lowered or "\\ud" in lowered:
        _refuse_unstorable(data)
    return data
