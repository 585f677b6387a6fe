"""The composer's canned replies: a refusal (a reply deleted since the page loaded, or someone
else's private one) answers the composer with the text it sent, never an error in its place.
"""

from __future__ import annotations

import pytest
from django.test import Client

from caseloop.cases.models import Macro
from caseloop.testing.factories import make_agent
from caseloop.web.tests.scenario import Scenario

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_a_deleted_canned_reply_keeps_the_text_and_says_why(staff: Client, s: Scenario) -> None:
    """Given a canned reply deleted after the page loaded, choosing it answers the composer with
    the text it sent, still a working textarea, and the reason beside it."""
    macro_id = Macro.objects.get(name="Ask for photo").pk
    Macro.objects.filter(pk=macro_id).delete()
    typed = "Dear Ann,\nI have <b>half</b> a reply written"
    response = staff.get(f"/cases/{s.case.pk}/macro/", {"macro": str(macro_id), "body": typed}, headers=HTMX)
    assert response.status_code == 404
    html = response.content.decode()
    assert html.lstrip().startswith(
        '<textarea id="composer-body" name="body" rows="5" placeholder="Write a reply… (Ctrl+Enter sends)">'
        "Dear Ann,\nI have &lt;b&gt;half&lt;/b&gt; a reply written</textarea>"
    )
    assert 'id="macro-error" hx-swap-oob="true"' in html
    assert "That canned reply is no longer available" in html
    # the picker comes back without the deleted reply, so it cannot be chosen again
    assert 'id="macro-select"' in html and f'value="{macro_id}"' not in html


def test_someone_elses_private_canned_reply_is_refused_the_same_way(s: Scenario) -> None:
    macro = Macro.objects.get(name="Ask for photo")
    intruder = Client()
    intruder.force_login(make_agent())
    response = intruder.get(f"/cases/{s.case.pk}/macro/", {"macro": str(macro.pk), "body": "Hi"}, headers=HTMX)
    assert response.status_code == 404
    html = response.content.decode()
    assert '<textarea id="composer-body"' in html and ">Hi</textarea>" in html
    assert "Ask for photo" not in html and "Regards" not in html  # nothing of the macro leaks


def test_the_case_page_has_the_place_for_the_canned_reply_error(staff: Client, s: Scenario) -> None:
    html = staff.get(f"/cases/{s.case.pk}/").content.decode()
    assert '<div id="macro-error" hidden></div>' in html
