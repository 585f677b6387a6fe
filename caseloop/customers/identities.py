"""Normalising contact identities so one address or number is one identity."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from caseloop.customers.choices import IdentityKind
from caseloop.customers.errors import CustomerError, CustomerErrorCode

_CHAT_HANDLE = re.compile(r"^[\w.@:+-]{1,254}$")


def normalise_identity(kind: str, value: str) -> str:
    """The canonical form of an identity, or a clear refusal."""
    value = value.strip()
    if kind == IdentityKind.EMAIL:
        try:
            validate_email(value)
        except ValidationError as exc:
            raise CustomerError(
                CustomerErrorCode.IDENTITY_INVALID,
                f"{value!r} is not an email address.",
                field="value",
            ) from exc
        return value.lower()
    if kind == IdentityKind.PHONE:
        region = getattr(settings, "CASELOOP_DEFAULT_PHONE_REGION", "US")
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException as exc:
            raise CustomerError(
                CustomerErrorCode.IDENTITY_INVALID,
                f"{value!r} is not a phone number.",
                field="value",
            ) from exc
        if not phonenumbers.is_possible_number(number):
            raise CustomerError(
                CustomerErrorCode.IDENTITY_INVALID,
                f"{value!r} is not a possible phone number.",
                field="value",
            )
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    if kind == IdentityKind.CHAT:
        if not _CHAT_HANDLE.match(value):
            raise CustomerError(
                CustomerErrorCode.IDENTITY_INVALID,
                f"{value!r} is not a chat handle.",
                field="value",
            )
        return value
    raise CustomerError(CustomerErrorCode.IDENTITY_INVALID, f"Unknown identity kind {kind!r}.", field="kind")
