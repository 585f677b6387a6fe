from django.db import models


class SlaState(models.TextChoices):
    """How a case stands against its SLA, for the inbox."""

    OK = "ok", "On time"
    WARNING = "warning", "Due soon"
    BREACHED = "breached", "Overdue"
    PAUSED = "paused", "Paused (waiting on the customer)"
    DONE = "done", "Met or stopped"


class Target(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"
