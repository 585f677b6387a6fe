"""Importing orders from a shop's CSV export, row by row through `create_order`.

Orders tell insights whether a customer bought again after a contact (issue 6:
"orders imported by CSV and API"). One row is one order:

    reference,ordered_at,email,customer_name,contact_id,organization_id,total,currency,is_renewal
    A-1001,2026-03-02T10:15:00+00:00,ann@example.com,Ann Smith,,,149.00,USD,no

- `reference` and `ordered_at` are required; `ordered_at` is ISO 8601, a date
  alone meaning midnight UTC, a time without a zone refused (as the API does),
  and from 1900 to a year ahead (as `create_order` keeps it).
- Whose order: `contact_id`, or `email` (the contact with that address; a new
  contact named `customer_name` when nobody has it), or `organization_id`.
- `total` (default 0) is a plain number of at most two decimals (`149.50`; not
  `1e9`, and `12.345` is refused, never rounded); `currency` defaults to
  `CASELOOP_CURRENCY`; `is_renewal` is yes/no, true/false or 1/0.

Each row is its own write: a bad row is reported with its line number and the
others are imported. A row whose value Python or the database cannot hold is
such a bad row too (and logged); an internal error stops the import at its
line, reporting it there, with the rows above it kept. A reference that is already stored is skipped and
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
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import DataError, transaction

from caseloop.core.errors import DomainError, Invalid, NotFound
from caseloop.core.money import DECIMALS, check_currency
from caseloop.core.schemas import MAX_ID
from caseloop.customers.actions import check_ordered_at, create_order, find_or_create_contact
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
# a total as a shop writes it: ASCII digits with an optional sign and point, never 1e9, NaN or ١٢
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)

logger = logging.getLogger(__name__)


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
    check_ordered_at(moment)  # before the database converts it to UTC, which 9999-12-31T23:59:59-14:00 overflows
    return moment


def _flag(raw: str) -> bool:
    text = raw.strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise Invalid(f"is_renewal {raw!r} is not yes or no.")


def _amount(raw: str) -> Decimal:
    """The total as written, refused rather than rounded or read as an exponent (`12.345`, `1e9`)."""
    text = raw.strip() or "0"
    if not _PLAIN_NUMBER.fullmatch(text):
        raise Invalid(f"total {raw!r} is not an amount (write it as 149 or 149.50).")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:  # unreachable after the pattern; kept so a looser pattern fails as a refusal
        raise Invalid(f"total {raw!r} is not an amount (write it as 149 or 149.50).") from exc
    if abs(amount) >= Decimal(10) ** 12:
        raise Invalid(f"total {raw!r} is not an amount (at most 999,999,999,999.99).")
    if amount != amount.quantize(Decimal(1).scaleb(-DECIMALS)):
        raise Invalid(f"total {raw!r} has more than {DECIMALS} decimals.")
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
        try:
            created = _import_row(actor, reference, clean)
        except DomainError as refused:
            report.errors.append((number, refused.message))
        except (ValueError, ArithmeticError, DataError):
            # a value the checks let through that Python or the database cannot hold (a date with no UTC form,
            # a text too long for its column): this row's fault, so its line's error; logged, as a check is missing
            logger.warning("Order import: line %d not storable", number, exc_info=True)
            report.errors.append((number, "A value in this row is out of range or too long to store; the row was "
                                          "not imported."))  # fmt: skip
        except Exception:
            # a fault of ours, not of the file: stop rather than fail every later row the same way, and say which
            # rows were imported instead of answering 500 after some were
            logger.exception("Order import: internal error on line %d; stopped", number)
            report.errors.append((number, "Stopped by an internal error on this line (logged): the rows above it "
                                          "were imported, this one and the rest were not."))  # fmt: skip
            break
        else:
            if created:
                report.created += 1
            else:
                report.already_there += 1
    return report


def _import_row(actor: User | None, reference: str, row: dict[str, str]) -> bool:
    """Store one row's order; False when its reference is stored already (a re-import skips it)."""
    with transaction.atomic():  # a new contact and its order are kept or refused together
        if reference and Order.objects.filter(reference=reference).exists():
            return False
        contact, organization = _owner(actor, row)
        create_order(actor=actor, reference=reference, contact=contact, organization=organization,
                     ordered_at=_when(row.get("ordered_at", "")), currency=_currency(row.get("currency", "")),
                     total=_amount(row.get("total", "")), is_renewal=_flag(row.get("is_renewal", "")))  # fmt: skip
    return True
