"""The portal's records: one-time sign-in links."""

from __future__ import annotations

from django.db import models

from caseloop.customers.models import ContactIdentity


class SignInLink(models.Model):
    """A one-time sign-in link sent to a known email identity.

    Only the SHA-256 of the token is stored: whoever reads the database cannot
    sign in with it. The token is also signed with the site's secret, so an
    altered one is refused before the database is asked. `used_at` is set by
    the compare-and-set that signs in, which makes the link single-use even
    when it is opened twice at the same moment.
    """

    identity = models.ForeignKey(ContactIdentity, on_delete=models.CASCADE, related_name="sign_in_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    requested_ip = models.GenericIPAddressField(null=True, blank=True)
    used_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["identity", "-created_at"], name="signin_link_identity_recent")]

    def __str__(self) -> str:
        state = "used" if self.used_at else "unused"
        return f"sign-in link {self.pk} for identity {self.identity_id} ({state})"
