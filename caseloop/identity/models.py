"""People who use caseloop, the teams they work in, and their API tokens."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from caseloop.identity.choices import STAFF_ROLES, Role


class User(AbstractUser):
    """Anyone who signs in: staff, partners and customers alike.

    A customer user is linked to the Contact it speaks for (customers.Contact
    points here), a partner user to its partner organization; what each sees is
    decided by the selectors of each domain from `role`.
    """

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    display_name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")

    objects: ClassVar[UserManager[User]] = UserManager()  # type: ignore[assignment]  # stubs type it Self

    class Meta:
        indexes = [models.Index(fields=["role"])]

    @property
    def is_staff_member(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def name(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A group of people who share an inbox and, later, rules and limits."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    members: models.ManyToManyField[User, Membership] = models.ManyToManyField(
        User, through="Membership", related_name="teams"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A person in a team; `is_lead` marks who the team's escalations reach."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    is_lead = models.BooleanField(default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class ApiToken(models.Model):
    """A bearer token for the REST API.

    Only a SHA-256 digest of the secret is stored; the plain token is shown once
    at creation. `prefix` is the public part used to find the row, so checking
    a token is one indexed lookup plus a constant-time comparison.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# what a token check reads: kept per process while neither table changes (identity.actions)
TOKEN_TABLES = (ApiToken._meta.db_table, User._meta.db_table)


class LoginFailure(models.Model):
    """One failed sign-in, counted per username and per client address.

    Rows live in the database (not a per-process cache) so that every app
    server counts the same failures; rows older than the window are deleted
    when new failures are recorded.
    """

    username_key = models.CharField(max_length=254, help_text="the identifier typed, lower-cased")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["username_key", "at"], name="login_failure_user_at"),
            models.Index(fields=["ip_address", "at"], name="login_failure_ip_at"),
            models.Index(fields=["at"], name="login_failure_at"),
        ]

    def __str__(self) -> str:
        return f"{self.username_key} from {self.ip_address} at {self.at:%Y-%m-%d %H:%M}"
