"""The case page's Details panel: each control posts only its own field, and the view applies
every field that differs from the case (all or nothing).

The Details controls used to sit in one form, so htmx (which sends the enclosing form's values
with any non-GET request) posted all four selects, and the view acted on the unchanged status:
priority, assignee and team changes were silently dropped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from caseloop.cases.actions import change_status
from caseloop.cases.choices import CaseStatus, Priority
from caseloop.cases.models import Case
from caseloop.web.tests.scenario import Scenario

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def whole_panel(case: Case, **changes: str) -> dict[str, str]:
    """What a form holding every Details select would post: each current value, with `changes`."""
    current = {
        "status": case.status,
        "priority": case.priority,
        "assignee": str(case.assignee_id or ""),
        "team": str(case.team_id or ""),
    }
    return {**current, **changes}


def facts(case_id: int) -> tuple[str, str, int | None, int | None]:
    case = Case.objects.get(pk=case_id)
    return (case.status, case.priority, case.assignee_id, case.team_id)


class _FormFields(HTMLParser):
    """The names of the fields inside each <form>, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list[str]] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self.forms.append([])
            self._open = True
        elif tag in ("select", "input", "textarea") and self._open:
            name = dict(attrs).get("name")
            if name and name != "csrfmiddlewaretoken":
                self.forms[-1].append(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = False


def form_fields(html: str) -> list[list[str]]:
    parser = _FormFields()
    parser.feed(html)
    return parser.forms


# --- what the panel posts ----------------------------------------------------------------


def test_each_details_select_is_alone_in_its_form(staff: Client, s: Scenario) -> None:
    """htmx posts the enclosing form of the changed select: that form must hold nothing else."""
    html = staff.get(f"/cases/{s.case.pk}/").content.decode()
    panel = html[html.index('id="case-props"') :]
    panel = panel[: panel.index("</section>")]
    assert form_fields(panel) == [["status"], ["priority"], ["assignee"], ["team"], ["remove_tag"], ["add_tag"]]


# --- what the view does with it ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("priority", lambda s: "urgent", lambda s: ("open", "urgent", s.agent.pk, s.team.pk)),
        ("assignee", lambda s: str(s.colleague.pk), lambda s: ("open", "high", s.colleague.pk, s.team.pk)),
        ("assignee", lambda s: "", lambda s: ("open", "high", None, s.team.pk)),
        ("team", lambda s: "", lambda s: ("open", "high", s.agent.pk, None)),
        ("status", lambda s: "pending", lambda s: ("pending", "high", s.agent.pk, s.team.pk)),
    ],
)
def test_an_unchanged_status_beside_the_change_does_not_mask_it(
    staff: Client, s: Scenario, field, value, expected
) -> None:
    """Given a post carrying every Details value (as a whole-form post does), the one that differs
    from the case changes, whatever its place in the form."""
    new = value(s)
    response = staff.post(f"/cases/{s.case.pk}/edit/", whole_panel(s.case, **{field: new}), headers=HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "case-changed"
    assert facts(s.case.pk) == expected(s)
    if new:
        assert f'<option value="{new}" selected>' in response.content.decode()  # the panel shows it


def test_several_changed_fields_are_all_applied(staff: Client, s: Scenario) -> None:
    data = whole_panel(s.case, status="pending", priority="low", assignee=str(s.colleague.pk), team="")
    response = staff.post(f"/cases/{s.case.pk}/edit/", data, headers=HTMX)
    assert response.status_code == 200
    assert facts(s.case.pk) == ("pending", "low", s.colleague.pk, None)


def test_one_field_alone_still_works(staff: Client, s: Scenario) -> None:
    response = staff.post(f"/cases/{s.case.pk}/edit/", {"priority": "low"}, headers=HTMX)
    assert response.status_code == 200
    assert facts(s.case.pk) == ("open", "low", s.agent.pk, s.team.pk)


def test_nothing_different_changes_nothing_and_says_so_quietly(staff: Client, s: Scenario) -> None:
    before = Case.objects.get(pk=s.case.pk).updated_at
    response = staff.post(f"/cases/{s.case.pk}/edit/", whole_panel(s.case), headers=HTMX)
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert Case.objects.get(pk=s.case.pk).updated_at == before


def test_a_refused_status_change_leaves_the_other_fields_too(staff: Client, s: Scenario) -> None:
    """All or nothing: open → closed is refused, so the priority sent with it is not applied either."""
    data = whole_panel(s.case, status="closed", priority="urgent")
    response = staff.post(f"/cases/{s.case.pk}/edit/", data, headers=HTMX)
    assert response.status_code == 409 and "cannot go from open to closed" in response.content.decode()
    assert "HX-Trigger" not in response
    assert facts(s.case.pk) == ("open", "high", s.agent.pk, s.team.pk)


def test_an_unknown_value_is_refused_before_anything_is_written(staff: Client, s: Scenario) -> None:
    data = whole_panel(s.case, status="pending", priority="whenever")
    response = staff.post(f"/cases/{s.case.pk}/edit/", data, headers=HTMX)
    assert response.status_code == 422 and "Unknown priority." in response.content.decode()
    assert facts(s.case.pk) == ("open", "high", s.agent.pk, s.team.pk)


def test_a_closed_case_says_it_is_closed_only_when_something_would_change(staff: Client, s: Scenario) -> None:
    change_status(actor=s.agent, case=s.case, status=CaseStatus.SOLVED)
    change_status(actor=s.agent, case=s.case, status=CaseStatus.CLOSED)
    closed = Case.objects.get(pk=s.case.pk)
    response = staff.post(f"/cases/{s.case.pk}/edit/", whole_panel(closed, priority="urgent"), headers=HTMX)
    assert response.status_code == 409 and "is closed and cannot change" in response.content.decode()
    assert Case.objects.get(pk=s.case.pk).priority == Priority.HIGH
    assert staff.post(f"/cases/{s.case.pk}/edit/", whole_panel(closed), headers=HTMX).status_code == 200


def test_an_empty_post_is_refused(staff: Client, s: Scenario) -> None:
    response = staff.post(f"/cases/{s.case.pk}/edit/", {}, headers=HTMX)
    assert response.status_code == 422 and "Nothing to change." in response.content.decode()


def test_a_closed_cases_details_are_shown_disabled(staff: Client, s: Scenario) -> None:
    assert 'name="priority" hx-post' in staff.get(f"/cases/{s.case.pk}/").content.decode()
    change_status(actor=s.agent, case=s.case, status=CaseStatus.SOLVED)
    change_status(actor=s.agent, case=s.case, status=CaseStatus.CLOSED)
    page = staff.get(f"/cases/{s.case.pk}/").content.decode()
    for name in ("status", "priority", "assignee", "team"):
        assert re.search(rf'<select id="prop-{name}" name="{name}"[^>]* disabled>', page), name
    assert "nothing here changes any more" in page
