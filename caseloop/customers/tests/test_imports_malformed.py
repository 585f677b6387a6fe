"""A CSV export that is not well formed: refused with the line named, never a server error or a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from caseloop import cli
from caseloop.core.errors import DomainError
from caseloop.customers.imports import import_orders
from caseloop.customers.models import Contact, Order
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_contact

pytestmark = pytest.mark.django_db

HEADER = "reference,ordered_at,email,customer_name,contact_id,organization_id,total,currency,is_renewal\n"
GOOD = "A-1,2026-03-02,ann@example.com,,,,10,USD,no\n"
LONG = "x" * 140_000  # over the csv module's cell limit of 131,072 characters


def _refusal(agent, text: str) -> tuple[int, dict[str, Any]]:
    response = ApiClient(agent).post("/orders/import", {"csv": text})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (HEADER + GOOD + f"A-2,2026-03-02,ann@example.com,{LONG},,,10,USD,no\n", "Line 3: a cell is longer than"),
        # a quote left open swallows the rest of the file into one cell
        (
            HEADER + GOOD + 'A-2,2026-03-02,"ann@example.com,,,,10,USD,no\n' + GOOD.replace("A-1", "A-3") * 3,
            "Line 3: a quoted cell is not closed",
        ),
        (
            HEADER + GOOD + 'A-2,2026-03-02,"ann@example.com,,,,10,USD,no\n' + (GOOD.replace("A-1", "A-3") + LONG),
            "Line 3: a cell is longer than",
        ),
        (HEADER + GOOD + 'A-2,2026-03-02,"ann@example.com"x,,,,10,USD,no\n', "Line 3: the line is not valid CSV"),
    ],
    ids=["long-cell", "open-quote", "open-quote-past-the-limit", "text-after-closing-quote"],
)
def test_a_file_that_is_not_valid_csv_is_refused_whole_naming_the_line(agent, text, words):
    make_contact(name="Ann Smith", email="ann@example.com")
    status, body = _refusal(agent, text)
    assert (status, body["code"], body["errors"][0]["field"]) == (422, "invalid", "file")
    assert words in body["detail"] and "nothing was imported" in body["detail"]
    assert Order.objects.count() == 0  # not even the good row before it


def test_a_column_named_twice_is_refused_naming_it(agent):
    text = "reference,ordered_at,email,total,total,currency\nA-1,2026-03-02,ann@example.com,10,99,USD\n"
    status, body = _refusal(agent, text)
    assert (status, body["code"]) == (422, "invalid")
    assert "names total more than once" in body["detail"]
    assert Order.objects.count() == 0


def test_a_column_without_a_name_is_refused(agent):
    with pytest.raises(DomainError) as excinfo:
        import_orders(actor=agent, text="reference,ordered_at,,email\nA-1,2026-03-02,,ann@example.com\n")
    assert excinfo.value.field == "file" and "Column 3 of the first line has no name" in excinfo.value.message


def test_a_row_with_more_cells_than_columns_is_refused_by_its_line(agent):
    make_contact(name="Ann Smith", email="ann@example.com")
    text = HEADER + GOOD + "A-2,2026-03-02,ann@example.com,,,,10,USD,no,surprise\nA-3,2026-03-02,ann@example.com\n"
    report = import_orders(actor=agent, text=text)
    assert report.created == 2  # A-3 is short: its last columns are empty (total 0, the default currency)
    assert report.errors == [(3, "The row has 10 cells; the first line names 9 columns.")]
    assert sorted(Order.objects.values_list("reference", flat=True)) == ["A-1", "A-3"]


@pytest.mark.parametrize("raw", ["\u0661\u0662", "\u00b2", "12.0", "-1", "0", "99999999999999999999"])
def test_an_id_is_plain_ascii_digits_within_range(agent, raw):
    make_contact(name="Ann Smith", email="ann@example.com")
    for column in ("contact_id", "organization_id"):
        cells = {"contact_id": "", "organization_id": "", column: raw}
        text = HEADER + f"A-1,2026-03-02,,,{cells['contact_id']},{cells['organization_id']},10,USD,no\n"
        report = import_orders(actor=agent, text=text)
        assert report.errors == [(2, f"{column} {raw!r} is not an id.")]
    assert Order.objects.count() == 0 and Contact.objects.count() == 1


def test_the_command_names_the_line_of_a_broken_file_and_exits_1(agent, tmp_path: Path, capsys):
    make_contact(name="Ann Smith", email="ann@example.com")
    broken = tmp_path / "orders.csv"
    broken.write_text(HEADER + GOOD + f'A-2,2026-03-02,"{LONG}\n', encoding="utf-8")
    assert cli.main(["import-orders", str(broken), "--user", agent.username]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("caseloop: Line 3: a cell is longer than 131,072 characters")
    assert "Traceback" not in err and Order.objects.count() == 0
    twice = tmp_path / "twice.csv"
    twice.write_text("reference,reference,ordered_at\nA-1,A-2,2026-03-02\n", encoding="utf-8")
    assert cli.main(["import-orders", str(twice), "--user", agent.username]) == 1
    assert "names reference more than once" in capsys.readouterr().err
