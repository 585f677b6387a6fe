"""Small builders for tests (and nothing else): each goes through the actions."""

from __future__ import annotations

import itertools
from typing import Any

from caseloop.cases.actions import MessageInput, create_case
from caseloop.cases.models import Case
from caseloop.customers.actions import IdentityInput, create_contact
from caseloop.customers.choices import IdentityKind
from caseloop.customers.models import Contact
from caseloop.identity.actions import create_team, create_token, create_user
from caseloop.identity.choices import Role
from caseloop.identity.models import Team, User

_seq = itertools.count(1)


def make_agent(username: str | None = None, role: Role = Role.AGENT, **kw: Any) -> User:
    n = next(_seq)
    return create_user(username=username or f"agent{n}", email=kw.pop("email", f"agent{n}@support.test"),
                       role=role, password=kw.pop("password", "correct-horse-battery-1"), **kw)  # fmt: skip


def make_team(name: str | None = None) -> Team:
    return create_team(name=name or f"Team {next(_seq)}")


def make_contact(name: str | None = None, email: str | None = None, **kw: Any) -> Contact:
    n = next(_seq)
    identities = [IdentityInput(IdentityKind.EMAIL, email or f"person{n}@customer.test")]
    return create_contact(actor=None, name=name or f"Person {n}", identities=identities, **kw)


def make_customer_user(name: str, email: str, **kw: Any) -> User:
    """A customer who can sign in, linked to a contact with that email."""
    contact = make_contact(name=name, email=email, **kw)
    user = create_user(username=email, email=email, role=Role.CUSTOMER, password="portal-pass-phrase-1")
    contact.user = user
    contact.save(update_fields=["user"])
    return user


def make_case(requester: Contact | None = None, subject: str = "Door will not open", body: str = "It is stuck.",
              **kw: Any) -> Case:  # fmt: skip
    return create_case(actor=None, requester=requester or make_contact(), subject=subject,
                       body=MessageInput(body_text=body), **kw).case  # fmt: skip


def token_for(user: User) -> str:
    return create_token(user=user, name="test").plain
