"""Every write of the web form: turning one submission into a new case.

The order of checks matters:

1. the honeypot: a filled-in hidden field is a robot; it gets the same
   "thank you" page as a person, and nothing is stored;
2. the form's one-time token: a second submit of the same form (a double
   click, a reload of the result page) returns the case the first made,
   before any limit is counted, so a double click never reads "too many";
3. the rate limits, per client IP and per address, counted in the database;
4. the topic and the attachments;
5. then one transaction: the contact (found by address, or created), the case,
   the submission record, and the acknowledgement email.

The address typed is not verified, so a submission always opens a case of its
own (as Zendesk's and Zammad's web forms do) and never writes into a case the
address already has: anyone may type anyone's address, and a message joined to
an open case would read to the rep as the customer's own word in that
conversation. For the same reason the page that answers says the same for
every address; the case number goes only to the address, in the acknowledgement.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.db import transaction

from caseloop.cases.actions import MessageInput, create_case
from caseloop.cases.attachments import AttachmentInput
from caseloop.cases.choices import Channel
from caseloop.cases.models import Case
from caseloop.channels.email.actions import queue_acknowledgement
from caseloop.channels.webform import conf
from caseloop.channels.webform.errors import WebFormError, WebFormErrorCode
from caseloop.channels.webform.files import check_attachments
from caseloop.channels.webform.models import WebSubmission
from caseloop.channels.webform.selectors import case_of_form_token, external_id_for
from caseloop.channels.webform.throttle import take_slot
from caseloop.core import clock
from caseloop.core.errors import Invalid
from caseloop.customers.actions import find_or_create_contact
from caseloop.customers.choices import IdentityKind
from caseloop.customers.identities import normalise_identity
from caseloop.identity.models import Team

logger = logging.getLogger(__name__)

FORM_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_MESSAGE = 20_000
MAX_NAME = 200
SUBJECT_WORDS = 80  # characters of the message's first line that become the case subject


class Outcome(StrEnum):
    OPENED = "opened"  # a new case
    DUPLICATE = "duplicate"  # the same form sent twice: nothing new
    DISCARDED = "discarded"  # the honeypot was filled in: nothing stored


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """What a visitor sent through the contact form, as parsed by the view."""

    name: str
    email: str
    topic: str
    message: str
    form_token: str
    ip_address: str | None = None
    attachments: Sequence[AttachmentInput] = field(default_factory=tuple)
    honeypot: str = ""


@dataclass(frozen=True, slots=True)
class Submitted:
    outcome: Outcome
    case: Case | None  # None only when discarded


def _subject(topic: conf.Topic, message: str) -> str:
    first = next((line.strip() for line in message.splitlines() if line.strip()), "")
    if len(first) > SUBJECT_WORDS:
        first = first[:SUBJECT_WORDS].rsplit(" ", 1)[0].rstrip(",.;:") + "…"
    return f"{topic.label}: {first}" if first else topic.label


def _topic(key: str) -> conf.Topic:
    found = next((t for t in conf.topics() if t.key == key), None)
    if found is None:
        raise WebFormError(WebFormErrorCode.UNKNOWN_TOPIC, "Please choose what your message is about.", field="topic")
    return found


def _team(topic: conf.Topic) -> Team | None:
    slug = topic.team_slug or conf.default_team_slug()
    return Team.objects.filter(slug=slug).first() if slug else None


def _check_limits(*, email: str, ip_address: str | None) -> None:
    window = conf.window_seconds()
    checks = [("webform.ip", ip_address, conf.max_per_ip()), ("webform.address", email, conf.max_per_address())]
    for scope, key, limit in checks:
        if not key:
            continue
        verdict = take_slot(scope=scope, key=key, limit=limit, window_seconds=window)
        if not verdict.allowed:
            minutes = verdict.minutes
            raise WebFormError(
                WebFormErrorCode.RATE_LIMITED,
                f"We have received several messages from you in a short time. So that everyone can reach us, "
                f"please wait {minutes} minute{'s' if minutes != 1 else ''} and send it again. "
                f"This message has not been sent.",
                status=429,
                extra={"retry_after_seconds": int(verdict.retry_after.total_seconds())},
            )


def submit_contact_form(*, request: ContactRequest) -> Submitted:
    """Accept one contact-form submission: open a case, or recognise a repeat.

    Never adds to an existing case, whoever the address belongs to (see the module's docstring).
    """
    if request.honeypot.strip():
        logger.info("web form: honeypot filled in from %s; discarded", request.ip_address)
        return Submitted(outcome=Outcome.DISCARDED, case=None)
    if not FORM_TOKEN.match(request.form_token):
        raise WebFormError(WebFormErrorCode.BAD_FORM_TOKEN,
                           "This form is out of date. Please send it again.", field="form_token")  # fmt: skip
    earlier = case_of_form_token(request.form_token)
    if earlier is not None:
        return Submitted(outcome=Outcome.DUPLICATE, case=earlier)
    email = normalise_identity(IdentityKind.EMAIL, request.email)
    name = " ".join(request.name.split())[:MAX_NAME]
    text = request.message.strip()
    if not text:
        raise Invalid("Please write your message.", field="message")
    if len(text) > MAX_MESSAGE:
        raise Invalid(f"A message can be at most {MAX_MESSAGE:,} characters.", field="message")
    topic = _topic(request.topic)
    files = check_attachments(request.attachments)
    _check_limits(email=email, ip_address=request.ip_address)
    body = MessageInput(body_text=text, attachments=tuple(files), external_id=external_id_for(request.form_token))
    now = clock.now()
    with transaction.atomic():
        # the name typed only names a new contact: an unverified form never renames a known one
        contact = find_or_create_contact(actor=None, kind=IdentityKind.EMAIL, value=email, name=name)
        created = create_case(actor=None, requester=contact, subject=_subject(topic, text), body=body,
                              channel=Channel.WEB, team=_team(topic), tags=[topic.key])  # fmt: skip
        if created.duplicate:
            # the same form arrived twice at once and the other request wrote it
            return Submitted(outcome=Outcome.DUPLICATE, case=created.case)
        assert created.message is not None
        WebSubmission.objects.create(case=created.case, message=created.message, contact=contact, email=email,
                                     topic=topic.key, ip_address=request.ip_address or None,
                                     created_at=now)  # fmt: skip
        if conf.acknowledge():
            queue_acknowledgement(case=created.case, to_address=email)
    return Submitted(outcome=Outcome.OPENED, case=created.case)
