from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    MANAGER = "manager", "Service manager"
    AGENT = "agent", "Agent"
    TECHNICIAN = "technician", "Field technician"
    PRODUCT_OWNER = "product_owner", "Product owner"
    PARTNER = "partner", "Partner"
    CUSTOMER = "customer", "Customer"


# Roles that work cases on behalf of the company (see every case).
STAFF_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.AGENT, Role.TECHNICIAN, Role.PRODUCT_OWNER})
