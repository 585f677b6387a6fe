from django.db import models


class IdentityKind(models.TextChoices):
    EMAIL = "email", "Email address"
    PHONE = "phone", "Phone number"
    CHAT = "chat", "Chat handle"


class OrganizationKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    PARTNER = "partner", "Partner"


class CustomerTier(models.TextChoices):
    STANDARD = "standard", "Standard"
    PRIORITY = "priority", "Priority"
    VIP = "vip", "VIP"


class SiteRole(models.TextChoices):
    OWNER = "owner", "Owner"
    OCCUPANT = "occupant", "Occupant"
    TENANT = "tenant", "Tenant"
    MANAGER = "manager", "Property manager"


class AssetStatus(models.TextChoices):
    IN_SERVICE = "in_service", "In service"
    NEEDS_SERVICE = "needs_service", "Needs service"
    RETIRED = "retired", "Retired"


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Placed"
    FULFILLED = "fulfilled", "Fulfilled"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"
