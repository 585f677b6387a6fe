"""Browser-side test helpers: a Django test client signed in as someone."""

from __future__ import annotations

from django.test import Client

from caseloop.identity.models import User


def signed_in(user: User) -> Client:
    """A test client with `user`'s session (no password round trip)."""
    client = Client()
    client.force_login(user)
    return client
