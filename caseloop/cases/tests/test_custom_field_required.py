"""A required custom field changes, but is not emptied, through the API as in the workspace."""

from __future__ import annotations

import pytest

from caseloop.cases.actions import create_custom_field
from caseloop.cases.choices import CustomFieldType
from caseloop.cases.models import Case
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("empty", [None, ""])
def test_clearing_a_required_field_is_refused(admin_user, agent, empty):
    create_custom_field(
        actor=admin_user, key="door_model", label="Door model", field_type=CustomFieldType.TEXT, required=True
    )
    case = make_case(custom_fields={"door_model": "8000"})
    api = ApiClient(agent)
    refused = api.patch(f"/cases/{case.pk}", {"custom_fields": {"door_model": empty}})
    assert (refused.status_code, refused.json()["code"]) == (422, "missing_required_field")
    assert refused.json()["errors"][0]["field"] == "custom_fields.door_model"
    assert Case.objects.get(pk=case.pk).custom_fields == {"door_model": "8000"}
    changed = api.patch(f"/cases/{case.pk}", {"custom_fields": {"door_model": "9100"}})
    assert changed.status_code == 200 and changed.json()["custom_fields"] == {"door_model": "9100"}
