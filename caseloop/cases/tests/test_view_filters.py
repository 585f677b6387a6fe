"""A saved view's or the inbox's filters: ids and hours in ASCII digits, and messages that say what is wrong."""

from __future__ import annotations

import pytest

from caseloop.cases.errors import CaseErrorCode
from caseloop.cases.selectors import clean_view_filters
from caseloop.core.errors import DomainError


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"team": "\u0661"}, "team must be a team id."),  # int() reads Arabic-Indic digits; an id is ASCII
        ({"team": "9" * 40}, "team must be a team id."),
        ({"assignee": "\u0967"}, 'assignee must be a user id, "me" or "none".'),
        ({"tag": "a" * 51}, "tag is at most 50 characters."),
        ({"tag": "two words"}, "tag must be one word."),
        ({"min_age_hours": "\u0662"}, "min_age_hours must be a whole number of hours."),
        ({"min_age_hours": "9" * 5000}, "min_age_hours must be a whole number of hours."),
    ],
)
def test_bad_filters_are_refused_with_what_is_wrong(filters, message):
    with pytest.raises(DomainError) as refused:
        clean_view_filters(filters)
    assert refused.value.code == CaseErrorCode.BAD_FILTER and refused.value.message == message


def test_good_filters_are_kept():
    cleaned = clean_view_filters({"team": "3", "assignee": "12", "tag": "Doors", "min_age_hours": "48"})
    assert cleaned == {"team": 3, "assignee": 12, "tag": "doors", "min_age_hours": 48}
