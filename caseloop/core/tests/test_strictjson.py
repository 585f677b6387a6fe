"""Outside JSON is read strictly: what a database cannot store is refused at the door, with its own error."""

import pytest

from caseloop.core.strictjson import LoneSurrogateInText, NulInText, NumberOutOfRange, loads


def test_ordinary_documents_and_escaped_pairs_read_as_usual():
    assert loads(b'{"a": [1, "b\\u00e9"]}') == {"a": [1, "b\u00e9"]}
    assert loads('{"door": "\\ud83d\\udeaa"}') == {"door": "\U0001f6aa"}  # a pair is one character
    assert loads("caf\u00e9".join(['"', '"']).encode()) == "caf\u00e9"
    assert loads(b"[1e308, 1e-999, 123456789012345678901234567890]") == [1e308, 0.0, 123456789012345678901234567890]


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b'{"a": "x\\u0000"}', NulInText),
        (b'{"a\\u0000": 1}', NulInText),  # keys are text too
        (b'{"a": ["ok", {"b": "\\ud800"}]}', LoneSurrogateInText),
        (b'{"a": "\\uDFFF"}', LoneSurrogateInText),  # escapes are case-insensitive
        (b'{"\\udc00\\ud800": 1}', LoneSurrogateInText),  # the wrong order is two halves, not a pair
        (b'{"amount": 1e999}', NumberOutOfRange),  # a double's range: it would read as infinity
        (b"[-1.5e400]", NumberOutOfRange),
    ],
)
def test_nul_and_half_a_surrogate_pair_are_refused_wherever_they_are(raw, error):
    with pytest.raises(error):
        loads(raw)


@pytest.mark.parametrize("raw", [b'{"a": NaN}', b"[Infinity]", b'"caf\xe9"', "\ufeff{}".encode("utf-16")])
def test_not_json_or_not_utf8_is_a_value_error(raw):
    with pytest.raises(ValueError, match=r"JSON|utf-8|Expecting"):
        loads(raw)
