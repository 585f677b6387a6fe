"""The case page's Fields block: each custom field shown with an input for its type and saved in
place, one at a time, through `update_case(custom_fields=…)`; and the page that defines them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from caseloop.cases.actions import change_status, create_custom_field, update_case
from caseloop.cases.choices import CaseStatus, CustomFieldType
from caseloop.cases.models import Case, CustomFieldDefinition
from caseloop.identity.choices import Role
from caseloop.testing.factories import make_agent, make_customer_user
from caseloop.timeline.models import AuditEntry, TimelineEvent
from caseloop.web.tests.scenario import Scenario, build_scenario
from caseloop.web.tests.test_case_edits import form_fields

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def s() -> Scenario:
    build = build_scenario()
    define = [
        ("door_model", "Door model", CustomFieldType.CHOICE, ["8000", "9100"], True, "The model on the door's label."),
        ("serial", "Opener serial", CustomFieldType.TEXT, [], False, ""),
        ("springs", "Springs", CustomFieldType.NUMBER, [], False, ""),
        ("quote", "Quoted price", CustomFieldType.DECIMAL, [], False, "In dollars, e.g. 189.50"),
        ("visit_on", "Visit on", CustomFieldType.DATE, [], False, ""),
        ("warranty", "Under warranty", CustomFieldType.BOOLEAN, [], False, ""),
    ]
    for key, label, kind, choices, required, help_text in define:
        create_custom_field(actor=None, key=key, label=label, field_type=kind, choices=choices, required=required,
                            help_text=help_text)  # fmt: skip
    update_case(actor=None, case=build.case, custom_fields={"door_model": "8000", "springs": 2})
    return build


def url(s: Scenario) -> str:
    return f"/cases/{s.case.pk}/fields/"


def values(s: Scenario) -> dict[str, Any]:
    return dict(Case.objects.get(pk=s.case.pk).custom_fields)


def audit_rows(s: Scenario) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type="case", object_id=s.case.pk, action="case.update").order_by("pk"))


def close(s: Scenario) -> None:
    change_status(actor=s.agent, case=s.case, status=CaseStatus.SOLVED)
    change_status(actor=s.agent, case=s.case, status=CaseStatus.CLOSED)


# --- what the block shows -------------------------------------------------------------------------


def test_the_case_page_loads_the_block_and_the_block_shows_each_field_for_its_type(staff: Client, s: Scenario) -> None:
    page = staff.get(f"/cases/{s.case.pk}/").content.decode()
    assert f'hx-get="{url(s)}" hx-trigger="load, case-changed from:#case-props"' in page

    response = staff.get(url(s), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    # each input alone in its form: htmx posts the enclosing form, so a field never carries another
    assert form_fields(html) == [[f"custom_fields.{k}"] for k in
                                 ("door_model", "serial", "springs", "quote", "visit_on", "warranty")]  # fmt: skip
    assert "Door model" in html and "The model on the door&#x27;s label." in html
    assert '<option value="8000" selected>8000</option>' in html and '<option value="9100">9100</option>' in html
    assert 'name="custom_fields.springs" value="2"' in html and 'type="text" inputmode="numeric"' in html
    assert 'type="text" inputmode="decimal"' in html and 'type="date"' in html and "In dollars, e.g. 189.50" in html
    assert '<option value="yes">Yes</option>' in html
    # the required field is marked, for eyes and for screen readers; the optional ones are not
    assert html.count("(required)") == 1 and html.count('aria-required="true"') == 1
    assert "Define fields" not in html  # an agent does not define fields


def test_no_definitions_says_so(staff: Client, s: Scenario) -> None:
    CustomFieldDefinition.objects.all().delete()
    assert "No fields are defined." in staff.get(url(s), headers=HTMX).content.decode()


# --- saving one field ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "typed", "stored"),
    [
        ("serial", "  OP-88 117 ", "OP-88 117"),
        ("springs", "4", 4),
        ("springs", "-9223372036854775808", -(2**63)),
        ("quote", "189.50", "189.50"),
        ("visit_on", "2027-05-05", "2027-05-05"),
        ("door_model", "9100", "9100"),
        ("warranty", "yes", True),
        ("warranty", "no", False),
    ],
)
def test_each_type_is_saved_in_place(staff: Client, s: Scenario, key: str, typed: str, stored: Any) -> None:
    response = staff.post(url(s), {f"custom_fields.{key}": typed}, headers=HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "case-changed"
    assert values(s) == {"door_model": "8000", "springs": 2, key: stored}
    html = response.content.decode()
    block = html[html.index(f'id="cf-{key}"') :]
    assert "Saved." in block[: block.index("</div>")]


@pytest.mark.parametrize(
    ("key", "typed", "message"),
    [
        ("springs", "3.5", "Springs must be a whole number"),
        ("springs", "99999999999999999999", "Springs must be a whole number"),
        ("quote", "1e5", "Quoted price must be a decimal number written out"),
        ("visit_on", "2027-02-30", "Visit on must be a date written YYYY-MM-DD"),
        ("door_model", "7000", "Door model must be one of 8000, 9100."),
        ("warranty", "maybe", "Under warranty must be yes/no"),
    ],
)
def test_a_bad_value_is_refused_beside_its_field_with_the_text_kept(
    staff: Client, s: Scenario, key: str, typed: str, message: str
) -> None:
    before = values(s)
    response = staff.post(url(s), {f"custom_fields.{key}": typed}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 422 and "HX-Trigger" not in response
    row = html[html.index(f'id="cf-{key}"') :]
    row = row[: row.index("</div>")]
    assert message in row and f'id="cf-error-{key}"' in row and 'aria-invalid="true"' in row
    if key not in ("door_model", "warranty"):  # a select cannot show a value it does not offer
        assert f'value="{typed}"' in row
    assert values(s) == before


def test_a_nul_character_is_refused_before_the_database_sees_it(staff: Client, s: Scenario) -> None:
    response = staff.post(url(s), {"custom_fields.serial": "a\x00b"}, headers=HTMX)
    assert response.status_code == 400 and "NUL" in response.content.decode()  # config.middleware, for every form
    assert "serial" not in values(s)


def test_an_unknown_field_is_refused_by_its_code(staff: Client, s: Scenario) -> None:
    response = staff.post(url(s), {"custom_fields.colour": "red"}, headers=HTMX)
    assert response.status_code == 422 and "There is no custom field &#x27;colour&#x27;." in response.content.decode()
    assert values(s) == {"door_model": "8000", "springs": 2}


def test_a_post_without_a_field_changes_nothing(staff: Client, s: Scenario) -> None:
    response = staff.post(url(s), {"priority": "low"}, headers=HTMX)
    assert response.status_code == 422 and "Nothing to change." in response.content.decode()
    assert audit_rows(s)[-1].after == {"custom_fields": {"door_model": "8000", "springs": 2}}


def test_clearing_an_optional_field_removes_its_value(staff: Client, s: Scenario) -> None:
    response = staff.post(url(s), {"custom_fields.springs": ""}, headers=HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "case-changed"
    assert values(s) == {"door_model": "8000"}
    assert 'name="custom_fields.springs" value=""' in response.content.decode()


def test_a_required_field_is_not_cleared_and_a_case_without_it_says_so(staff: Client, s: Scenario) -> None:
    """A required field changes but is not emptied; a case older than the rule may lack it, and the block says so."""
    response = staff.post(url(s), {"custom_fields.door_model": ""}, headers=HTMX)
    assert response.status_code == 422 and "can change, not be cleared" in response.content.decode()
    assert values(s) == {"door_model": "8000", "springs": 2}
    Case.objects.filter(pk=s.case.pk).update(custom_fields={"springs": 2})  # made before the field was required
    html = staff.get(url(s), headers=HTMX).content.decode()
    row = html[html.index('id="cf-door_model"') :]
    assert "Required: not filled in yet." in row[: row.index("</div>")]


# --- only what changed is written ----------------------------------------------------------------


def test_only_the_changed_field_is_written(staff: Client, s: Scenario) -> None:
    rows = len(audit_rows(s))
    staff.post(url(s), {"custom_fields.serial": "OP-1"}, headers=HTMX)
    entry = audit_rows(s)[-1]
    assert len(audit_rows(s)) == rows + 1
    assert entry.actor_id == s.agent.pk
    assert entry.before == {"custom_fields": {"door_model": "8000", "springs": 2}}
    assert entry.after == {"custom_fields": {"door_model": "8000", "springs": 2, "serial": "OP-1"}}
    event = TimelineEvent.objects.filter(kind="case.updated").order_by("-pk").first()
    assert event is not None and event.summary == f"{s.case.number}: changed field serial"  # by its key


def test_an_unchanged_value_is_no_write(staff: Client, s: Scenario) -> None:
    """The form posts the value it shows: posting it again (or " 2 " for 2) writes nothing."""
    rows, updated = len(audit_rows(s)), Case.objects.get(pk=s.case.pk).updated_at
    for data in ({"custom_fields.springs": " 2 "}, {"custom_fields.door_model": "8000"}, {"custom_fields.serial": ""}):
        response = staff.post(url(s), data, headers=HTMX)
        assert response.status_code == 200 and "HX-Trigger" not in response
    assert len(audit_rows(s)) == rows and Case.objects.get(pk=s.case.pk).updated_at == updated


# --- a closed case, and who may ------------------------------------------------------------------


def test_a_closed_case_shows_its_fields_read_only_and_refuses_a_change(staff: Client, s: Scenario) -> None:
    close(s)
    html = staff.get(url(s), headers=HTMX).content.decode()
    assert "<form" not in html and "<input" not in html and "<select" not in html
    assert "its fields cannot change" in html and "8000" in html
    rows = len(audit_rows(s))
    response = staff.post(url(s), {"custom_fields.springs": "3"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 409 and "is closed and cannot change." in html
    row = html[html.index('id="cf-springs"') :]
    assert "is closed" in row[: row.index("</div>")] and "<form" not in html  # beside the field, read-only now
    assert values(s) == {"door_model": "8000", "springs": 2} and len(audit_rows(s)) == rows


def test_without_htmx_a_save_goes_back_to_the_case_and_a_refusal_is_a_page(staff: Client, s: Scenario) -> None:
    response = staff.post(url(s), {"custom_fields.springs": "5"})
    assert response.status_code == 302 and response["Location"] == f"/cases/{s.case.pk}/"
    assert values(s)["springs"] == 5
    response = staff.post(url(s), {"custom_fields.springs": "five"})
    assert response.status_code == 422 and "Springs must be a whole number" in response.content.decode()


def test_a_customer_or_a_visitor_can_neither_read_nor_change_the_fields(client: Client, s: Scenario) -> None:
    assert client.post(url(s), {"custom_fields.springs": "7"}).status_code == 302  # to sign in
    client.force_login(make_customer_user("Ann Smith", "ann.portal@example.com"))
    assert client.get(url(s)).status_code == 403
    assert client.post(url(s), {"custom_fields.springs": "7"}, headers=HTMX).status_code == 403
    assert values(s) == {"door_model": "8000", "springs": 2}


def test_the_block_is_get_or_post_only(staff: Client, s: Scenario) -> None:
    assert staff.put(url(s)).status_code == 405


# --- the page that defines them ------------------------------------------------------------------

NEW_FIELD = {"key": "roof_pitch", "label": "Roof pitch", "field_type": "choice", "choices": "low\n steep \n\n",
             "help_text": "For the crew's ladder.", "required": "on"}  # fmt: skip


def test_an_administrator_defines_a_field(client: Client, s: Scenario) -> None:
    client.force_login(make_agent(username="root", role=Role.ADMIN))
    page = client.get("/custom-fields/").content.decode()
    assert "Door model" in page and "<code>door_model</code>" in page and "Add field" in page
    response = client.post("/custom-fields/", NEW_FIELD, follow=True)
    assert response.status_code == 200 and "Added the field “Roof pitch” to every case." in response.content.decode()
    made = CustomFieldDefinition.objects.get(key="roof_pitch")
    assert (made.label, made.field_type, made.choices, made.required, made.help_text) == (
        "Roof pitch", "choice", ["low", "steep"], True, "For the crew's ladder.")  # fmt: skip


def test_a_refused_definition_is_shown_beside_its_field_with_the_form_kept(client: Client, s: Scenario) -> None:
    client.force_login(make_agent(username="root", role=Role.ADMIN))
    response = client.post("/custom-fields/", {**NEW_FIELD, "key": "door_model"})
    html = response.content.decode()
    assert response.status_code == 409 and "A custom field &#x27;door_model&#x27; exists." in html
    assert 'value="Roof pitch"' in html
    response = client.post("/custom-fields/", {**NEW_FIELD, "field_type": "text"})
    assert response.status_code == 422 and "Only a choice field has choices." in response.content.decode()
    assert not CustomFieldDefinition.objects.filter(key="roof_pitch").exists()


def test_a_manager_reads_the_definitions_but_only_an_administrator_adds_one(client: Client, s: Scenario) -> None:
    client.force_login(make_agent(username="boss", role=Role.MANAGER))
    page = client.get("/custom-fields/").content.decode()
    assert "Door model" in page and "Only an administrator can add a field." in page and "Add field" not in page
    response = client.post("/custom-fields/", NEW_FIELD)
    assert response.status_code == 403 and "Only an administrator can do that." in response.content.decode()
    assert not CustomFieldDefinition.objects.filter(key="roof_pitch").exists()
    assert "Define fields" in client.get(url(s), headers=HTMX).content.decode()


def test_an_agent_may_not_open_the_definitions(staff: Client, s: Scenario) -> None:
    response = staff.post("/custom-fields/", NEW_FIELD)
    assert response.status_code == 403 and "for service managers and administrators" in response.content.decode()
    assert not CustomFieldDefinition.objects.filter(key="roof_pitch").exists()
