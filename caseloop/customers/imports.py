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
duplicating orders. The whole file is read and checked first, and nothing is
written when it cannot be read as CSV (a quote left open, a stray character
after a closing quote, a cell over 131,072 characters: the problem names the
line its row starts on) or when its first line lacks a required column, names
an unknown one, names one twice or leaves one unnamed. A row with more cells
than the first line names is refused by its line, as any bad row.
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
from caseloop.core.money import check_currency
from caseloop.core.schemas import MAX_ID
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
    try:
        return check_currency(code)
    except Invalid as exc:
        raise Invalid(f"currency {raw!r} is not a three-letter ISO 4217 code (USD, EUR …).") from exc


def _id(raw: str, name: str) -> int:
    text = raw.strip()
    # ASCII digits only: str.isdigit() also takes "٣" or "³", which no export means as an id
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_ID:
        raise Invalid(f"{name} {raw!r} is not an id.")
    return int(text)


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


def _problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a cell is longer than {csv.field_size_limit():,} characters (is a quote left open?)"
    if "unexpected end of data" in str(exc):
        return "a quoted cell is not closed before the end of the file"
    return f"the line is not valid CSV ({exc})"


def _rows(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The first line's column names and every further row with the line it starts on, read before any write.

    A file that is not valid CSV is refused whole, naming the line where the unreadable row starts: once a
    quote is left open, every later line is swallowed into one cell, so no row after it can be trusted.
    """
    # strict: a quote left open at the end, or text after a closing quote, is an error rather than a guess
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), strict=True)  # a byte order mark is no column
    rows: list[tuple[int, list[str]]] = []
    while len(rows) <= MAX_ROWS + 1:  # the header, the rows allowed, and one more to say the file was cut
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise Invalid(f"Line {start}: {_problem(exc)}; nothing was imported.", field="file") from exc
        if cells:  # a blank line is no row
            rows.append((start, cells))
    header = rows[0][1] if rows else []
    return [name.strip() for name in header], rows[1:]


def _check_header(header: list[str]) -> None:
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise Invalid(f"The file's first line must name the columns; missing: {', '.join(missing)}.", field="file")
    nameless = [str(number) for number, name in enumerate(header, start=1) if not name]
    if nameless:
        raise Invalid(f"Column {', '.join(nameless)} of the first line has no name.", field="file")
    unknown = sorted(set(header) - KNOWN)
    if unknown:
        raise Invalid(f"Unknown columns: {', '.join(unknown)} (known: {', '.join(sorted(KNOWN))}).", field="file")
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise Invalid(f"The first line names {', '.join(twice)} more than once.", field="file")


def import_orders(*, actor: User | None, text: str) -> OrderImport:
    """Import the orders of a CSV export (staff); see the module's docstring for the columns."""
    require_staff(actor)
    header, rows = _rows(text)
    _check_header(header)
    report = OrderImport()
    for count, (number, cells) in enumerate(rows, start=1):
        if count > MAX_ROWS:
            report.errors.append((number, f"Stopped: at most {MAX_ROWS:,} orders in one file."))
            break
        if not any(cell.strip() for cell in cells):
            continue  # a row of empty cells
        if len(cells) > len(header):
            report.errors.append((number, f"The row has {len(cells)} cells; the first line names {len(header)} "
                                          "columns."))  # fmt: skip
            continue
        clean = dict(zip(header, cells, strict=False))  # a short row leaves its last columns empty
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
