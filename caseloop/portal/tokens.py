"""The token in a sign-in link: a random secret, signed with the site's key.

`new_token` returns the token and the hash that is stored; `token_hash`
checks the signature first, so a token someone altered or made up is refused
without a database query, and only a token we signed is looked up by hash.
"""

from __future__ import annotations

import hashlib
import secrets

from django.core import signing

SALT = "caseloop.portal.sign_in"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """(token for the link, its hash for the database)."""
    token = signing.Signer(salt=SALT).sign(secrets.token_urlsafe(32))
    return token, _hash(token)


def token_hash(token: str) -> str | None:
    """The stored hash of a token we signed; None for one we did not (altered, truncated, made up)."""
    try:
        signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        return None
    return _hash(token)
