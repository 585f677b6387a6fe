"""Custom field values: each type takes exactly its documented form, and refuses the rest naming the field."""

from __future__ import annotations

import pytest

from caseloop.cases.actions import create_custom_field
from caseloop.cases.choices import CustomFieldType
from caseloop.cases.custom_fields import validate_custom_fields
from caseloop.cases.errors import CaseError, CaseErrorCode
from caseloop.cases.models import Case
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(admin_user):
    for key, field_type in (("units", CustomFieldType.NUMBER), ("price", CustomFieldType.DECIMAL),
                            ("due", CustomFieldType.DATE)):  # fmt: skip
        create_custom_field(actor=admin_user, key=key, label=key.title(), field_type=field_type)


def _refused(key: str, value: object) -> CaseError:
    with pytest.raises(CaseError) as excinfo:
        validate_custom_fields({key: value})
    assert (excinfo.value.code, excinfo.value.status, excinfo.value.field) == (
        CaseErrorCode.BAD_CUSTOM_FIELD, 422, f"custom_fields.{key}")  # fmt: skip
    return excinfo.value


# --- decimal ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    ["NaN", "nan", "sNaN", "-sNaN", "Infinity", "-Infinity", "inf", "1E+999", "1e3", "1_000", " 1.5", "1.5 ",
     "", "-", ".", "1.", ".5", "0x10", "\u0661\u0662", "1" * 19, "1234567890123456789.5", "0.1234567", "9" * 10_000,
     float("inf"), float("nan"), 1e300, 10**18, True, False, [1], {"a": 1}],
)  # fmt: skip
def test_a_decimal_is_finite_and_written_out_within_18_digits_and_6_places(fields, value):
    error = _refused("price", value)
    assert len(error.message) < 300  # a huge value is not echoed back whole


@pytest.mark.parametrize(
    ("value", "stored"),
    [("1234.50", "1234.50"), ("-0.5", "-0.5"), ("+7", "7"), ("007.25", "7.25"), ("0", "0"),
     ("999999999999999999.999999", "999999999999999999.999999"), (42, "42"), (-(10**18 - 1), "-999999999999999999"),
     (2.5, "2.5"), (0.000001, "0.000001"), (1e17, "100000000000000000")],
)  # fmt: skip
def test_a_decimal_is_stored_as_its_exact_text(fields, value, stored):
    assert validate_custom_fields({"price": value}) == {"price": stored}


# --- date ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [20270505, "20270505", "2027-W18-3", "2027W183", "2027-05", "2027-5-5", "2027-05-05T00:00", " 2027-05-05",
     "2027-02-30", "0000-01-01", "\uff12\uff10\uff12\uff17-\uff10\uff15-\uff10\uff15", 2027.0505, True, [],
     {"y": 2027}],
)  # fmt: skip
def test_a_date_is_a_yyyy_mm_dd_string(fields, value):
    _refused("due", value)


def test_a_date_is_kept_as_given(fields):
    assert validate_custom_fields({"due": "2027-05-05"}) == {"due": "2027-05-05"}


# --- number -------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30, True, False, 1.5, 3.0, "3", float("nan")])
def test_a_number_is_a_64_bit_whole_number(fields, value):
    _refused("units", value)


@pytest.mark.parametrize("value", [0, -5, 2**63 - 1, -(2**63)])
def test_a_number_within_64_bits_is_kept(fields, value):
    assert validate_custom_fields({"units": value}) == {"units": value}


# --- over HTTP ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "value"),
    [("price", "NaN"), ("price", "1E+999"), ("due", 20270505), ("due", "2027-W18-3"), ("units", 2**63),
     ("units", True)],
)  # fmt: skip
def test_the_api_refuses_them_with_bad_custom_field_naming_the_field(fields, agent, key, value):
    case = make_case()
    response = ApiClient(agent).patch(f"/cases/{case.pk}", {"custom_fields": {key: value}})
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "bad_custom_field"
    assert [e["field"] for e in body["errors"]] == [f"custom_fields.{key}"]
    assert Case.objects.get(pk=case.pk).custom_fields == {}
