"""Outside JSON is read strictly: what a database cannot store is refused at the door, with its own error."""

import pytest

from caseloop.core.strictjson import (
    DuplicateKey,
    LoneSurrogateInText,
    NulInText,
    NumberOutOfRange,
    RefusedDocument,
    TooDeep,
    loads,
)


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


@pytest.mark.parametrize(
    "raw",
    [
        b'{"direction": "note", "body_text": "a", "direction": "inbound"}',  # the last would win: a note made public
        b'{"a": [{"b": 1, "c": 2, "b": 1}]}',  # at any depth, even with the same value
        b'{"\\u0061": 1, "a": 2}',  # the same key, written as an escape once
    ],
)
def test_a_key_given_twice_in_one_object_is_refused(raw):
    with pytest.raises(DuplicateKey, match="appears twice"):
        loads(raw)


def test_the_same_key_in_different_objects_is_fine():
    assert loads(b'{"a": {"x": 1}, "b": {"x": 2}}') == {"a": {"x": 1}, "b": {"x": 2}}


@pytest.mark.parametrize("raw", [b"[" * 5000 + b"]" * 5000, b'{"a":' * 5000 + b"1" + b"}" * 5000, b"[" * 100_000])
def test_nesting_deeper_than_the_parser_can_follow_is_a_refused_document(raw):
    # the parser recurses: without the catch this is a RecursionError, which no caller expects (a 500)
    with pytest.raises(TooDeep, match="nested too deeply") as caught:
        loads(raw)
    assert isinstance(caught.value, RefusedDocument) and caught.value.code == "too_deeply_nested"


def test_ordinary_nesting_still_reads():
    data = loads(b"[" * 50 + b"1" + b"]" * 50)
    for _ in range(50):
        assert isinstance(data, list) and len(data) == 1
        data = data[0]
    assert data == 1
