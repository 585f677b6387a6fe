from django.db import models


class Dimension(models.TextChoices):
    """What the dashboard cuts the figures by; the last two compare coming back by outcome and by promise."""

    ALL = "all", "Everything"
    TEAM = "team", "Team"
    CHANNEL = "channel", "Channel"
    CASE_TYPE = "case_type", "Case type"
    PERSON = "person", "Person (technician or rep)"
    PARTNER = "partner", "Partner"
    EXPECTATIONS = "expectations", "Expectations"
    PROMISE = "promise", "Promises"


# the dimensions a manager picks on the dashboard (the last two feed the "coming back" table)
SEGMENT_DIMENSIONS = (Dimension.TEAM, Dimension.CHANNEL, Dimension.CASE_TYPE, Dimension.PERSON, Dimension.PARTNER)

NO_ANSWER = "none"  # the expectations key of cases whose customer did not answer
PROMISE_BROKEN, PROMISE_KEPT, PROMISE_NONE = "broken", "kept", "none"
NO_SEGMENT = "none"  # the key of cases with no team, no assignee, no partner, no type


class Table(models.TextChoices):
    """The tables the dashboard shows, each exportable as CSV and readable through the API."""

    SEGMENTS = "segments", "Segments side by side"
    TREND = "trend", "Weekly trend"
    RETENTION = "retention", "Coming back after contact"
    ALARM = "alarm", "All is well alarm"
