"""Every write of the portal: sign-in links, signing in, a customer's new cases, and replies.

A customer (or a partner, on work attributed to it) acts here as themselves: the case actions below check what a
customer may do, and the portal checks first that the case, site or asset
named is one the customer may see (a guessed id is "not found").
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from caseloop.cases.actions import MessageInput, add_message, create_case
from caseloop.cases.attachments import AttachmentInput
from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.cases.selectors import access_case
from caseloop.channels.webform.actions import FORM_TOKEN
from caseloop.channels.webform.files import check_attachments
from caseloop.channels.webform.throttle import take_slot
from caseloop.core import clock
from caseloop.core.errors import Invalid, PermissionDenied
from caseloop.core.events import on_commit
from caseloop.customers.choices import IdentityKind, OrganizationKind
from caseloop.customers.errors import CustomerError
from caseloop.customers.identities import normalise_identity
from caseloop.customers.models import Contact, ContactIdentity
from caseloop.customers.selectors import access_asset, access_site, contact_of, surviving_contact
from caseloop.identity.actions import create_user
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.portal import conf, tasks
from caseloop.portal.errors import PortalError, PortalErrorCode
from caseloop.portal.models import SignInLink
from caseloop.portal.selectors import usable_link
from caseloop.portal.tokens import new_token
from caseloop.timeline.actions import record_audit

logger = logging.getLogger(__name__)

MAX_MESSAGE = 20_000


# --- sign-in links ------------------------------------------------------------------------------------
def _may_use_portal(contact: Contact) -> bool:
    """Customers, and the partner users an administrator made for a partner organization's
    people. Staff, deactivated users, and a partner organization's contact without a partner
    user (seeing attributed work is granted by an administrator, never by knowing an address)
    get no link."""
    user = contact.user
    organization = contact.organization
    of_partner = organization is not None and organization.kind == OrganizationKind.PARTNER
    if user is None:
        return not of_partner  # a customer's first sign-in makes their user; a partner's never does
    if not user.is_active:
        return False
    if user.role == Role.PARTNER:
        return of_partner
    return user.role == Role.CUSTOMER and not of_partner


def _check_link_limits(*, address: str, ip_address: str | None) -> None:
    window = conf.link_window_seconds()
    checks = [("portal.link.ip", ip_address, conf.links_per_ip()), ("portal.link.address", address,
                                                                     conf.links_per_address())]  # fmt: skip
    for scope, key, limit in checks:
        if not key:
            continue
        verdict = take_slot(scope=scope, key=key, limit=limit, window_seconds=window)
        if not verdict.allowed:
            minutes = verdict.minutes
            raise PortalError(
                PortalErrorCode.RATE_LIMITED,
                f"Several sign-in links were asked for in a short time. Please use the newest link in your email, "
                f"or ask again in {minutes} minute{'s' if minutes != 1 else ''}.",
                status=429,
                extra={"retry_after_seconds": int(verdict.retry_after.total_seconds())},
            )


def request_sign_in_link(*, email: str, ip_address: str | None) -> None:
    """Ask for a one-time sign-in link for `email`; the link is made and mailed by the worker.

    Whoever asks gets the same answer ("check your email") whether or not the
    address is known, and the request does the same work for every well-formed
    address: it counts the limits and queues one task, after commit. It looks
    nothing up. Before ADR 0076 it looked the address up, wrote the link and
    mailed it before answering, so a known address answered more slowly than
    an unknown one, and the timing told which addresses are customers'. The
    worker (`issue_sign_in_link`) decides whether the address gets a link.
    """
    try:
        address = normalise_identity(IdentityKind.EMAIL, email)
    except CustomerError as exc:
        raise Invalid("Please enter your email address.", field="email") from exc
    _check_link_limits(address=address, ip_address=ip_address)
    on_commit(tasks.enqueue_sign_in_link, address, ip_address or None)


def issue_sign_in_link(*, address: str, ip_address: str | None) -> SignInLink | None:
    """The worker's half (`tasks.send_sign_in_link`): email a one-time sign-in link to `address`
    if it is a known address of someone who may use the portal; otherwise nothing.

    `address` is normalised and its limits were counted when it was asked for.
    The token is made here and never stored: only its hash is, and the email
    carries it. The returned link (or None) is for tests and logs.
    """
    identity = (
        ContactIdentity.objects.filter(kind=IdentityKind.EMAIL, value=address)
        .select_related("contact__user", "contact__organization")
        .first()
    )
    if identity is None or not _may_use_portal(surviving_contact(identity.contact)):
        return None
    token, digest = new_token()
    now = clock.now()
    with transaction.atomic():
        link = SignInLink.objects.create(
            identity=identity, token_hash=digest, created_at=now, expires_at=now + conf.link_life(),
            requested_ip=ip_address or None,
        )  # fmt: skip
        on_commit(_send_link_email, to=address, token=token, name=identity.contact.name)
    return link


def _send_link_email(*, to: str, token: str, name: str) -> None:
    """After the link's commit, in the worker, straight to the mail backend: a sign-in link is no case
    message, and the token must not wait in any table where the database would hold it in clear."""
    url = f"{conf.site_url()}{reverse('portal:confirm', kwargs={'token': token})}"
    minutes = int(conf.link_life().total_seconds() // 60)
    context = {"url": url, "name": name, "minutes": minutes, "portal_name": conf.name()}
    email = EmailMultiAlternatives(
        subject=f"Your sign-in link for {conf.name()}",
        body=render_to_string("portal/email/sign_in.txt", context),
        to=[to],
        headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )
    try:
        email.send()
    except Exception:
        # the person sees "check your email" either way; the log says why nothing came
        logger.exception("sending a portal sign-in link to %s failed", to)


def sign_in_with_link(*, token: str, ip_address: str | None) -> User:
    """The customer user a valid, unused, unexpired link signs in; the link is used up.

    The first sign-in of a contact creates their customer user (no password:
    links are how customers sign in) and links it to the contact.
    """
    link = usable_link(token)
    now = clock.now()
    with transaction.atomic():
        claimed = SignInLink.objects.filter(pk=link.pk, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now, used_ip=ip_address or None
        )
        if not claimed:  # opened twice at once: the other request used it
            raise PortalError(PortalErrorCode.LINK_USED, "This sign-in link was used already.", status=410)
        # locked so that two first sign-ins of one contact make one user
        contact = Contact.objects.select_for_update().get(pk=surviving_contact(link.identity.contact).pk)
        user, created = _customer_user(contact)
        record_audit(action="portal.sign_in", object_type="contact", object_id=contact.pk, actor=user,
                     after={"identity": link.identity.value, "link": link.pk, "new_user": created})  # fmt: skip
    return user


def _customer_user(contact: Contact) -> tuple[User, bool]:
    """The contact's customer user, created and linked on first use (contact row locked by the caller)."""
    user = User.objects.filter(pk=contact.user_id).first() if contact.user_id is not None else None
    if user is not None:
        if not _may_use_portal(contact):
            raise PortalError(PortalErrorCode.NOT_A_CUSTOMER,
                              "The portal is for customers; please sign in to the workspace instead.",
                              status=403)  # fmt: skip
        return user, False
    organization = contact.organization
    if organization is not None and organization.kind == OrganizationKind.PARTNER:
        raise PortalError(PortalErrorCode.NOT_A_CUSTOMER, "The portal is for customers.", status=403)
    # no email on the user: the contact's identities are where addresses live, and an email on a
    # customer user would make the staff sign-in form's "username or email" ambiguous
    user = create_user(username=f"customer-{contact.pk}-{secrets.token_hex(3)}", role=Role.CUSTOMER,
                       display_name=contact.name)  # fmt: skip
    # a customers row written by the portal, because only the portal signs customers in; nothing else changes
    Contact.objects.filter(pk=contact.pk).update(user=user)
    contact.user = user
    return user, True


# --- a customer's cases -----------------------------------------------------------------------------
def _customer_contact(actor: User) -> Contact:
    contact = contact_of(actor) if actor.role == Role.CUSTOMER else None
    if contact is None:
        raise PermissionDenied("New requests come from customers; partners work the requests given to them.")
    return contact


def _portal_contact(actor: User) -> Contact:
    """The contact a customer or a partner user writes as (a partner writes as its own person, never the customer)."""
    contact = contact_of(actor) if actor.role in (Role.CUSTOMER, Role.PARTNER) else None
    if contact is None:
        raise PermissionDenied("The portal is for customers and partners.")
    return contact


def _body(*, text: str, attachments: Sequence[AttachmentInput], form_token: str, kind: str) -> MessageInput:
    text = text.strip()
    if len(text) > MAX_MESSAGE:
        raise Invalid(f"A message can be at most {MAX_MESSAGE:,} characters.", field="message")
    files = check_attachments(attachments)
    if not text and not files:
        raise Invalid("Please write your message.", field="message")
    # the form's one-time token: a double submit makes one message (unique per channel)
    external_id = f"portal-{kind}-{form_token}" if FORM_TOKEN.match(form_token) else None
    return MessageInput(body_text=text, attachments=tuple(files), external_id=external_id)


@dataclass(frozen=True, slots=True)
class Opened:
    case: Case
    duplicate: bool


def open_case(
    *,
    actor: User,
    subject: str,
    text: str,
    attachments: Sequence[AttachmentInput] = (),
    site_id: int | None = None,
    asset_id: int | None = None,
    form_token: str = "",
) -> Opened:
    """A customer opens a case about themselves, optionally about one of their sites or assets."""
    contact = _customer_contact(actor)
    site = access_site(actor, site_id) if site_id is not None else None
    asset = access_asset(actor, asset_id) if asset_id is not None else None
    body = _body(text=text, attachments=attachments, form_token=form_token, kind="case")
    created = create_case(actor=actor, requester=contact, subject=subject, body=body, channel=Channel.PORTAL,
                          site=site, asset=asset)  # fmt: skip
    return Opened(case=created.case, duplicate=created.duplicate)


def reply(
    *, actor: User, case_id: int, text: str, attachments: Sequence[AttachmentInput] = (), form_token: str = ""
) -> Message:
    """A customer answers on one of the cases they may see (their own, or their organization's when shared);
    a partner on a case attributed to its organization. Either message comes in from outside, authored by the
    writer's own contact: it joins the conversation, and reopens a solved case for a rep to pick up."""
    _portal_contact(actor)
    case = access_case(actor, case_id)
    body = _body(text=text, attachments=attachments, form_token=form_token, kind="reply")
    return add_message(actor=actor, case=case, direction=Direction.INBOUND, body=body, channel=Channel.PORTAL).message
