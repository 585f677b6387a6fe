from django.db import models


class ChatState(models.TextChoices):
    OPEN = "open", "Open"
    ENDED = "ended", "Ended"


class EndedBy(models.TextChoices):
    VISITOR = "visitor", "the visitor"
    AGENT = "agent", "a rep"
    TIMEOUT = "timeout", "inactivity"


class ChatKind(models.TextChoices):
    LIVE = "live", "Live chat"
    OFFLINE = "offline", "Left a message (answered by email)"
