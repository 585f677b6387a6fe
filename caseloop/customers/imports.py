"""Importing orders from a shop's CSV export, row by row through `create_order`.

Orders tell insights whether a customer bought again after a contact (issue 6:
"orders imported by CSV and API"). One row is one order:

    reference,ordered_at,email,customer_name,contact_id,organization_id,total,currency,is_renewal
    A-1001,2026-03-02T10:15:00+00:00,ann@example.com,Ann Smith,,,149.00,USD,no

- `reference` and `ordered_at` are required; `ordered_at` is ISO 8601, a date
  alone meaning midnight UTC, a time without a zone refused (as the API does).
- Whose order: `contact_id`, or `email` (the contact with that address; a new
  contact named `customer_name` when nobody has it), or `organization_id`.
- `total` (default 0) and `currency` (default `CASELOOP_CURRENCY`);
  `is_renewal` is yes/no, true/false or 1/0.

Each row is its own write: a bad row is reported with its line number and the
others are imported. A reference that is already stored is skipped and
counted, so the same export can be imported again (a nightly job) without
duplicating orders. The whole file is checked first (headers, size), and
nothing is written when its header lacks a required column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction

from caseloop.core.errors import DomainError, Invalid, NotFound
from caseloop.customers.actions import create_order, find_or_create_contact
from caseloop.customers.choices import IdentityKind
from caseloop.customers.models import Contact, Order, Organization
from caseloop.identity.models import User
from caseloop.identity.selectors import require_staff

REQUIRED = ("reference", "ordered_at")
KNOWN = frozenset({"reference", "ordered_at", "email", "customer_name", "contact_id", "organization_id", "total",
                   "currency", "is_renewal"})  # fmt: skip
MAX_ROWS = 100_000
REFERENCE_LENGTH = 64
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}


@dataclass
class OrderImport:
    """What an import did: orders made, rows skipped because their reference is stored, and each refusal."""

    created: int = 0
    already_there: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number in the file, why)


def _when(raw: str) -> dt.datetime:
    text = raw.strip()
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Invalid(f"ordered_at {raw!r} is not a date (2026-03-02 or 2026-03-02T10:15:00+00:00).") from exc
    if moment.tzinfo is None:
        raise Invalid(f"ordered_at {raw!r} needs a time zone (…+00:00).")
    return moment


def _flag(raw: str) -> bool:
    text = raw.strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise Invalid(f"is_renewal {raw!r} is not yes or no.")


def _amount(raw: str) -> Decimal:
    try:
        amount = Decimal(raw.strip() or "0")
    except InvalidOperation as exc:
        raise Invalid(f"total {raw!r} is not an amount.") from exc
    if not amount.is_finite() or abs(amount) >= Decimal(10) ** 12:
        raise Invalid(f"total {raw!r} is not an amount.")
    return amount


def _currency(raw: str) -> str:
    code = raw.strip().upper() or str(settings.CASELOOP_CURRENCY)
    if len(code) != 3 or not code.isalpha():
        raise Invalid(f"currency {raw!r} is not a three-letter code (USD, EUR …).")
    return code


def _id(raw: str, name: str) -> int:
    if not raw.strip().isdigit():
        raise Invalid(f"{name} {raw!r} is not an id.")
    return int(raw.strip())


def _owner(actor: User | None, row: dict[str, str]) -> tuple[Contact | None, Organization | None]:
    contact: Contact | None = None
    organization: Organization | None = None
    if (row.get("contact_id") or "").strip():
        contact = Contact.objects.filter(pk=_id(row["contact_id"], "contact_id")).first()
        if contact is None:
            raise NotFound("Contact", row["contact_id"].strip())
    elif (row.get("email") or "").strip():
        contact = find_or_create_contact(actor=actor, kind=IdentityKind.EMAIL, value=row["email"],
                                         name=(row.get("customer_name") or "").strip())  # fmt: skip
    if (row.get("organization_id") or "").strip():
        organization = Organization.objects.filter(pk=_id(row["organization_id"], "organization_id")).first()
        if organization is None:
            raise NotFound("Organization", row["organization_id"].strip())
    if contact is None and organization is None:
        raise Invalid("Whose order? Give an email, a contact_id or an organization_id.")
    return contact, organization


def import_orders(*, actor: User | None, text: str) -> OrderImport:
    """Import the orders of a CSV export (staff); see the module's docstring for the columns."""
    require_staff(actor)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # a spreadsheet's byte order mark is no column
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise Invalid(f"The file's first line must name the columns; missing: {', '.join(missing)}.", field="file")
    unknown = sorted(set(header) - KNOWN)
    if unknown:
        raise Invalid(f"Unknown columns: {', '.join(unknown)} (known: {', '.join(sorted(KNOWN))}).", field="file")
    reader.fieldnames = header
    report = OrderImport()
    for count, row in enumerate(reader, start=1):
        number = reader.line_num  # the line in the file (blank lines and quoted line breaks counted)
        if count > MAX_ROWS:
            report.errors.append((number, f"Stopped: at most {MAX_ROWS:,} orders in one file."))
            break
        clean = {key: (value or "") for key, value in row.items() if key is not None}
        if not any(value.strip() for value in clean.values()):
            continue  # a blank line
        reference = clean.get("reference", "").strip()
        if len(reference) > REFERENCE_LENGTH:
            report.errors.append((number, f"reference is longer than {REFERENCE_LENGTH} characters."))
            continue
        if reference and Order.objects.filter(reference=reference).exists():
            report.already_there += 1
            continue
        try:
            with transaction.atomic():  # a new contact and its order are kept or refused together
                contact, organization = _owner(actor, clean)
                create_order(actor=actor, reference=reference, contact=contact, organization=organization,
                             ordered_at=_when(clean.get("ordered_at", "")),
                             currency=_currency(clean.get("currency", "")),
                             total=_amount(clean.get("total", "")),
                             is_renewal=_flag(clean.get("is_renewal", "")))  # fmt: skip
        except DomainError as refused:
            report.errors.append((number, refused.message))
        else:
            report.created += 1
    return report
