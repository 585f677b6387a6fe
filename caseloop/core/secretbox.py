"""Secrets kept in the database (a mailbox's IMAP password), encrypted at rest.

A secret is stored sealed: `fernet:` followed by a Fernet token (AES-128-CBC
with an HMAC-SHA256, from the `cryptography` package), so a copy of the
database or of a backup does not give the password away without the key.

The key comes from settings, read at each call:

- CASELOOP_SECRETS_KEY: one key, or several separated by commas. The first
  seals; every one of them opens. Generate one with
  `python -c "import secrets; print(secrets.token_urlsafe(32))"`.
- When it is unset: SECRET_KEY (CASELOOP_SECRET_KEY, or the key kept in the
  data folder), with SECRET_KEY_FALLBACKS opening too.

Each key string is turned into a Fernet key with HKDF-SHA256 under a
caseloop-specific label, so the same SECRET_KEY that signs sessions never
serves directly as an encryption key. To rotate: put the new key first and
the old one after it, run `caseloop mailbox rekey` (re-seals every stored
secret with the first key), then drop the old one. A secret sealed with a key
that is no longer listed cannot be opened (`SecretUnreadable`): it has to be
entered again.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "fernet:"
_LABEL = b"caseloop secretbox v1"


class SecretUnreadable(Exception):
    """A stored secret that none of the configured keys opens (the key changed), or that is damaged."""


def _key_strings() -> tuple[str, ...]:
    configured = str(getattr(settings, "CASELOOP_SECRETS_KEY", "") or "")
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    if not keys:
        keys = [str(settings.SECRET_KEY), *(str(k) for k in getattr(settings, "SECRET_KEY_FALLBACKS", []))]
    return tuple(keys)


@lru_cache(maxsize=8)
def _box(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_derive(k)) for k in keys])


def _derive(key: str) -> bytes:
    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(key.encode("utf-8"))
    return base64.urlsafe_b64encode(material)


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def seal(plain: str) -> str:
    """The stored form of a secret; an empty secret stays empty (nothing to hide)."""
    if not plain:
        return ""
    return PREFIX + _box(_key_strings()).encrypt(plain.encode("utf-8")).decode("ascii")


def unseal(stored: str) -> str:
    """The secret itself; raises SecretUnreadable when no configured key opens it."""
    if not stored:
        return ""
    if not is_sealed(stored):
        raise SecretUnreadable("The stored value is not sealed.")
    try:
        return _box(_key_strings()).decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise SecretUnreadable("No configured key opens this secret (the key changed?).") from exc


def reseal(stored: str) -> str:
    """The same secret sealed with the first (current) key; raises SecretUnreadable like `unseal`."""
    if not stored:
        return ""
    if not is_sealed(stored):
        raise SecretUnreadable("The stored value is not sealed.")
    try:
        return PREFIX + _box(_key_strings()).rotate(stored[len(PREFIX) :].encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise SecretUnreadable("No configured key opens this secret (the key changed?).") from exc
