"""The provider's signature (Twilio's algorithm) and the TwiML we build, without the database."""

from __future__ import annotations

from typing import Any

from caseloop.channels.phone.provider import TwiML, compute_signature, is_valid_signature
from caseloop.channels.phone.tests.signing import parse_twiml

# Twilio's documented example: this URL, these parameters and the auth token 12345 sign as below
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
]
DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_the_documented_example_signs_as_twilio_says():
    assert compute_signature(auth_token="12345", url=DOC_URL, params=DOC_PARAMS) == DOC_SIGNATURE
    # the order the parameters arrive in does not matter: they are sorted by name
    assert compute_signature(auth_token="12345", url=DOC_URL, params=list(reversed(DOC_PARAMS))) == DOC_SIGNATURE


def test_good_bad_and_missing_signatures():
    good: dict[str, Any] = {"auth_token": "12345", "url": DOC_URL, "params": DOC_PARAMS}
    assert is_valid_signature(**good, signature=DOC_SIGNATURE)
    assert not is_valid_signature(**good, signature="")
    assert not is_valid_signature(**good, signature=DOC_SIGNATURE[:-2] + "x=")
    assert not is_valid_signature(auth_token="54321", url=DOC_URL, params=DOC_PARAMS, signature=DOC_SIGNATURE)
    assert not is_valid_signature(auth_token="", url=DOC_URL, params=DOC_PARAMS, signature=DOC_SIGNATURE)
    # any change to the URL or to a parameter breaks it
    assert not is_valid_signature(auth_token="12345", url=DOC_URL + "&x=1", params=DOC_PARAMS, signature=DOC_SIGNATURE)
    changed = [*DOC_PARAMS[:2], ("Digits", "1235"), *DOC_PARAMS[3:]]
    assert not is_valid_signature(auth_token="12345", url=DOC_URL, params=changed, signature=DOC_SIGNATURE)


def test_a_default_port_written_or_not_is_the_same_url():
    signed_with_port = compute_signature(auth_token="t", url="https://h.example:443/x", params=[("A", "1")])
    assert is_valid_signature(
        auth_token="t", url="https://h.example/x", params=[("A", "1")], signature=signed_with_port
    )
    signed_without = compute_signature(auth_token="t", url="https://h.example/x", params=[("A", "1")])
    assert is_valid_signature(
        auth_token="t", url="https://h.example:443/x", params=[("A", "1")], signature=signed_without
    )
    # another port is another URL
    assert not is_valid_signature(
        auth_token="t", url="https://h.example:8443/x", params=[("A", "1")], signature=signed_without
    )


def test_repeated_parameters_are_all_signed_in_order():
    params = [("MediaUrl", "b"), ("MediaUrl", "a"), ("Body", "hi")]
    expected = compute_signature(
        auth_token="t", url="https://h/x", params=[("Body", "hi"), ("MediaUrl", "a"), ("MediaUrl", "b")]
    )
    assert compute_signature(auth_token="t", url="https://h/x", params=params) == expected


def test_twiml_is_escaped_xml():
    twiml = TwiML()
    gather = twiml.gather(action="https://h/menu?tries=0&x=<1>")
    twiml.say("Press 1 for <repairs> & more", voice="alice", language="en-US", parent=gather)
    twiml.redirect("https://h/menu?tries=0")
    twiml.dial("sip:desk@pbx.example.com", action="https://h/dial", timeout=20, record=False, recording_callback="")
    response = twiml.response()
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response>')
    root = parse_twiml(response.content)
    assert [child.tag for child in root] == ["Gather", "Redirect", "Dial"]
    assert root[0].attrib == {
        "input": "dtmf",
        "numDigits": "1",
        "timeout": "6",
        "action": "https://h/menu?tries=0&x=<1>",
        "method": "POST",
    }
    assert (root[0][0].text, root[0][0].attrib) == (
        "Press 1 for <repairs> & more",
        {"voice": "alice", "language": "en-US"},
    )
    assert root[2].attrib == {"action": "https://h/dial", "method": "POST", "timeout": "20"}
    assert [(c.tag, c.text) for c in root[2]] == [("Sip", "sip:desk@pbx.example.com")]
