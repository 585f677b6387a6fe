from django.db import models


class InboundState(models.TextChoices):
    RECEIVED = "received", "Received, not yet processed"
    PROCESSED = "processed", "Processed"
    QUARANTINED = "quarantined", "Quarantined"
    IGNORED = "ignored", "Ignored"


class InboundSource(models.TextChoices):
    SMTP = "smtp", "SMTP server"
    IMAP = "imap", "IMAP fetch"
    IMPORT = "import", "Import"


class AutoKind(models.TextChoices):
    """What kind of sender wrote a message: a person, or a machine of some sort."""

    NONE = "none", "Written by a person"
    AUTO_REPLY = "auto_reply", "Automatic reply (out of office, vacation)"
    BULK = "bulk", "Bulk, list or machine-generated mail"
    BOUNCE = "bounce", "Delivery failure report"


class OutboundKind(models.TextChoices):
    REPLY = "reply", "Reply"
    ACKNOWLEDGEMENT = "ack", "Acknowledgement"


class OutboundState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"
    SUPPRESSED = "suppressed", "Not sent (loop protection)"


class ParticipantRole(models.TextChoices):
    TO = "to", "To"
    CC = "cc", "Cc"


class InboundReason(models.TextChoices):
    """Why an inbound message was quarantined or ignored (stable codes, shown to admins)."""

    # quarantined: a person should look at it
    UNPARSEABLE = "unparseable", "The message could not be parsed"
    NO_SENDER = "no_sender", "No usable sender address"
    TOO_LARGE = "too_large", "The message is larger than the limit"
    REJECTED = "rejected", "The case refused the message"
    INTERNAL_ERROR = "internal_error", "caseloop failed processing it"
    FROM_STAFF = "from_staff", "From a staff member, on no case it can join"
    # ignored: deliberately not turned into a message, kept for the record
    DUPLICATE = "duplicate", "The same message was already received"
    LOOP = "loop", "Sent by one of our own addresses (mail loop)"
    UNTHREADED_AUTO_REPLY = "auto_reply", "An automatic reply to no known case"
    BOUNCE = "bounce", "A delivery failure report"
