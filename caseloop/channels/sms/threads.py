"""Which case a text or a call from a number continues (shared by SMS and phone).

Like chat, one conversation per customer at a time: the same number with an
open case reached by phone or text continues that case; otherwise a new case
is opened. A case opened by email or the web form is not continued by a text,
so a quick text never lands in a long email thread a rep is not expecting.
"""

from __future__ import annotations

from caseloop.cases.choices import OPEN_STATUSES, Channel
from caseloop.cases.models import Case
from caseloop.customers.models import Contact
from caseloop.customers.selectors import contact_ids_for_history, surviving_contact

THREADED_CHANNELS = (Channel.SMS, Channel.PHONE)


def open_case_for(contact: Contact) -> Case | None:
    """The contact's newest open case opened by phone or text, if any (merged contacts count as one)."""
    contact = surviving_contact(contact)
    return (
        Case.objects.filter(
            requester_id__in=contact_ids_for_history(contact),
            status__in=list(OPEN_STATUSES),
            channel__in=list(THREADED_CHANNELS),
        )
        .order_by("-id")
        .first()
    )
