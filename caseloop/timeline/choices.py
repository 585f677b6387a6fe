from django.db import models


class SubjectKind(models.TextChoices):
    """What a timeline can be read for: `GET /api/v1/timeline?subject=<kind>:<id>`."""

    CONTACT = "contact", "Contact"
    ORGANIZATION = "organization", "Organization"
    SITE = "site", "Site"
    ASSET = "asset", "Asset"
    CASE = "case", "Case"
