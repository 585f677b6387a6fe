"""Who the customers are, where they are, and what they own and bought."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from caseloop.customers.choices import (
    AssetStatus,
    CustomerTier,
    IdentityKind,
    OrderStatus,
    OrganizationKind,
    SiteRole,
)


class Organization(models.Model):
    """A company: a customer account, or a partner that works on our behalf."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=OrganizationKind.choices, default=OrganizationKind.CUSTOMER)
    tier = models.CharField(max_length=20, choices=CustomerTier.choices, default=CustomerTier.STANDARD)
    domain = models.CharField(max_length=200, blank=True, help_text="email domain, e.g. example.com")
    notes = models.TextField(blank=True)
    # contacts of this organization see each other's cases in the portal
    shares_cases = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["name"]), models.Index(fields=["domain"])]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person we serve (or a partner's person).

    A merged contact is kept with `merged_into` set: links to it keep working
    (they redirect) and its timeline rows are read with the survivor's.
    """

    name = models.CharField(max_length=200)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    tier = models.CharField(max_length=20, choices=CustomerTier.choices, default=CustomerTier.STANDARD)
    language = models.CharField(max_length=10, default="en")
    time_zone = models.CharField(max_length=64, default="UTC")
    notes = models.TextField(blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
        help_text="the sign-in of a customer or partner person",
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_contacts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["name"]),
            # search by name prefix, any case: a range scan on lower(name) (see find_contacts)
            models.Index(Lower("name"), name="contact_name_lower"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""


class ContactIdentity(models.Model):
    """One way to reach a contact; each value belongs to exactly one contact."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=10, choices=IdentityKind.choices)
    # normalised: emails lower-cased, phones in E.164
    value = models.CharField(max_length=254)
    is_primary = models.BooleanField(default=False)
    # set when mail to it bounces; cleared when it works again
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="contact_identity_unique_value"),
            # one primary email, one primary phone …: the one a reply or a text goes to
            models.UniqueConstraint(
                fields=["contact", "kind"], condition=Q(is_primary=True), name="contact_identity_one_primary_per_kind"
            ),
        ]
        verbose_name_plural = "contact identities"

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Site(models.Model):
    """A property or address where assets are installed and visits happen."""

    name = models.CharField(max_length=200, blank=True)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="sites"
    )
    access_notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name or f"{self.address_line1}, {self.city}"

    @property
    def one_line(self) -> str:
        parts = [self.address_line1, self.address_line2, self.city, self.postal_code]
        return ", ".join(p for p in parts if p)


class SiteRelation(models.Model):
    """A person's tie to a site over time (owner from/to, occupant …).

    When a house changes hands the old owner's relation gets `valid_to` and a
    new one starts; the site's assets and history stay with the site.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="relations")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="site_relations")
    role = models.CharField(max_length=20, choices=SiteRole.choices)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="site_relation_dates_ordered",
            ),
            # a person is the site's owner (or tenant …) once at a time; an earlier tie is closed, not repeated
            models.UniqueConstraint(
                fields=["site", "contact", "role"],
                condition=Q(valid_to__isnull=True),
                name="site_relation_one_open_tie_per_role",
            ),
        ]
        indexes = [models.Index(fields=["site", "role", "valid_to"])]

    def __str__(self) -> str:
        return f"{self.contact} {self.role} of {self.site}"


class Asset(models.Model):
    """A product installed at a site; its history belongs to it, not to an owner."""

    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="assets")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="assets"
    )
    name = models.CharField(max_length=200)
    manufacturer = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=100, blank=True)
    serial_number = models.CharField(max_length=100, blank=True)
    installed_on = models.DateField(null=True, blank=True)
    warranty_until = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=AssetStatus.choices, default=AssetStatus.IN_SERVICE)
    # structured facts a technician needs, e.g. {"spring_size": "2x 0.243 x 32in"}
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["serial_number"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial_number})" if self.serial_number else self.name


class Order(models.Model):
    """Something a customer bought: later tells whether they came back after a contact."""

    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    reference = models.CharField(max_length=64, unique=True, help_text="the order number in the shop")
    ordered_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="USD")
    is_renewal = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["contact", "-ordered_at"]),
            models.Index(fields=["ordered_at"]),
        ]

    def __str__(self) -> str:
        return self.reference


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.quantity} x {self.description}"
