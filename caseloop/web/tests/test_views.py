"""The workspace through Django's test client: who sees what, forms, throttling, bulk, query counts."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core import mail
from django.test import Client, override_settings

from caseloop.cases.choices import CaseStatus, Direction
from caseloop.cases.models import Case, CasePresence, Macro, Message, SavedView
from caseloop.identity.choices import Role
from caseloop.identity.models import LoginFailure
from caseloop.testing.factories import make_agent, make_case, make_contact
from caseloop.web.middleware import POLICY
from caseloop.web.tests.scenario import PASSWORD, Scenario, add_inbox_cases

pytestmark = pytest.mark.django_db


# --- signing in ----------------------------------------------------------------------------
def test_anonymous_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = client.get("/inbox/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/inbox/"


def test_sign_in_with_email_goes_to_next_and_refuses_foreign_next(client: Client, s: Scenario) -> None:
    response = client.post("/login/", {"identifier": "DANA@support.test", "password": PASSWORD, "next": "/team/"})
    assert response.status_code == 302 and response["Location"] == "/team/"
    client.post("/logout/")
    response = client.post("/login/", {"identifier": "dana", "password": PASSWORD, "next": "https://evil.test/"})
    assert response["Location"] == "/"


@override_settings(CASELOOP_LOGIN_MAX_FAILURES=3)
def test_sign_in_is_throttled_with_a_clear_message(client: Client, s: Scenario) -> None:
    for _ in range(3):
        response = client.post("/login/", {"identifier": "dana", "password": "guess"})
        assert response.status_code == 400
        assert "do not match" in response.content.decode()
    response = client.post("/login/", {"identifier": "dana", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert LoginFailure.objects.filter(username_key="dana").count() == 3


def test_password_reset_sends_a_working_link(client: Client, s: Scenario) -> None:
    response = client.post("/password-reset/", {"email": "dana@support.test"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dana@support.test"]
    link = re.search(r"http://testserver(/password-reset/\S+/)", str(mail.outbox[0].body))
    assert link is not None
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200 and "Choose a new password" in form_page.content.decode()
    new_password = {"new_password1": "a-new-long-phrase-7", "new_password2": "a-new-long-phrase-7"}
    response = client.post(form_page.redirect_chain[-1][0], new_password)
    assert response.status_code == 302 and response["Location"] == "/password-reset/done/"
    assert client.post("/login/", {"identifier": "dana", "password": "a-new-long-phrase-7"}).status_code == 302


def test_customer_gets_a_polite_refusal_not_the_workspace(client: Client, customer, s: Scenario) -> None:
    client.force_login(customer)
    for url in ("/inbox/", f"/cases/{s.case.pk}/", f"/contacts/{s.contact.pk}/", "/search/?q=door"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "This workspace is for our staff" in response.content.decode()
    response = client.post(f"/cases/{s.case.pk}/messages/", {"kind": "reply", "body": "hi"})
    assert response.status_code == 403
    assert s.case.messages.count() == 4


def test_unknown_case_is_a_404_page(staff: Client) -> None:
    response = staff.get("/cases/999999/")
    assert response.status_code == 404 and "Case 999999 was not found." in response.content.decode()


def test_every_page_carries_the_strict_csp_and_no_inline_script(staff: Client, s: Scenario) -> None:
    response = staff.get(f"/cases/{s.case.pk}/")
    assert response["Content-Security-Policy"] == POLICY
    html = response.content.decode()
    assert "<script>" not in html and " style=" not in html and "<style" not in html
    assert re.findall(r"<script [^>]*src=\"([^\"]+)\"", html) == ["/static/web/vendor/htmx.min.js",
                                                                  "/static/web/app.js"]  # fmt: skip


def test_posts_without_csrf_token_are_refused(s: Scenario) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(s.agent)
    response = client.post(f"/cases/{s.case.pk}/edit/", {"status": "pending"})
    assert response.status_code == 403
    assert Case.objects.get(pk=s.case.pk).status == CaseStatus.OPEN
    page = client.get(f"/cases/{s.case.pk}/")
    token = page.cookies["csrftoken"].value
    response = client.post(f"/cases/{s.case.pk}/edit/", {"status": "pending"}, headers={"X-CSRFToken": token,
                           "HX-Request": "true"})  # fmt: skip
    assert response.status_code == 200
    assert Case.objects.get(pk=s.case.pk).status == CaseStatus.PENDING


# --- the inbox ---------------------------------------------------------------------------------
def _numbers(response) -> list[str]:
    return re.findall(r'class="case-number">(CL-\d+)<', response.content.decode())


def test_builtin_views_and_their_counts(staff: Client, s: Scenario) -> None:
    add_inbox_cases(s)
    response = staff.get("/inbox/?view=unassigned")
    assert response.status_code == 200
    unassigned = list(Case.objects.filter(assignee__isnull=True).exclude(status="closed").order_by("-id"))
    assert _numbers(response) == [c.number for c in unassigned]
    counts = dict(re.findall(r'<span>([\w ]+)</span><span class="count">([\d,+]+)</span>', response.content.decode()))
    assert counts == {"Mine": "4", "SLA due soon": "0", "My team": "7", "Unassigned": "6", "Waiting on customer": "2",
                      "All open": "12"}  # fmt: skip


def test_an_empty_mine_view_points_to_where_the_work_is(client: Client, s: Scenario) -> None:
    client.force_login(make_agent(display_name="New Rep"))  # nothing assigned yet, as after a first sign-in
    page = unescape(client.get("/inbox/").content.decode())
    assert "No open case is assigned to you." in page
    assert '<a href="?view=unassigned">Unassigned</a>' in page and '<a href="?view=open">All open</a>' in page


def test_inbox_rows_show_their_tags(staff: Client, s: Scenario) -> None:
    tagged = make_case(requester=s.contact, subject="Rattling rollers", tags=["rollers", "noise"])
    response = staff.get("/inbox/?view=open")
    row = re.search(rf"{tagged.number}.*?</tr>", response.content.decode(), re.S)
    assert row is not None
    assert re.findall(r'<span class="tag">([^<]+)</span>', row.group(0)) == ["noise", "rollers"]


def test_the_inbox_h1_is_its_first_heading(staff: Client, s: Scenario) -> None:
    """The side menu comes first in the markup: its group names ("Inbox", "Saved views") are list labels, not
    headings before the page's own h1, and each names the list it heads."""
    staff.post("/inbox/views/", {"name": "Urgent", "priority": "urgent"})  # so the saved views' list is there too
    html = staff.get("/inbox/?view=open").content.decode()
    assert re.findall(r"<h[1-6]\b", html)[0] == "<h1"
    for label_id, label in (("views-title-inbox", "Inbox"), ("views-title-saved", "Saved views")):
        assert f'<p class="views-title" id="{label_id}">{label}</p>' in html
        assert f'<ul aria-labelledby="{label_id}">' in html


def test_inbox_pages_by_cursor_and_htmx_gets_only_the_list(staff: Client, s: Scenario, monkeypatch) -> None:
    from caseloop.cases.selectors import case_page

    add_inbox_cases(s)
    small_pages = lambda *args, **kwargs: case_page(*args, **{**kwargs, "limit": 5})  # noqa: E731
    monkeypatch.setattr("caseloop.web.views.inbox.case_page", small_pages)
    page1 = staff.get("/inbox/?view=open&sort=oldest", headers={"HX-Request": "true"})
    next_url = re.search(r'href="(\?[^"]*cursor=[^"]+)" rel="next"', page1.content.decode())
    assert next_url is not None
    page2 = staff.get("/inbox/" + next_url.group(1).replace("&amp;", "&"))
    ids = list(Case.objects.order_by("id").values_list("id", flat=True))
    assert "<html" not in page1.content.decode()  # the fragment only
    assert "<html" in page2.content.decode()
    assert _numbers(page1) + _numbers(page2) == [f"CL-{i}" for i in ids[:10]]


def test_filter_bar_then_save_and_use_a_view(staff: Client, s: Scenario) -> None:
    add_inbox_cases(s)
    response = staff.get("/inbox/?priority=urgent&sort=oldest")
    urgent = list(Case.objects.filter(priority="urgent").order_by("id"))
    assert _numbers(response) == [c.number for c in urgent]
    response = staff.post("/inbox/views/", {"name": "Urgent", "priority": "urgent", "sort": "oldest", "shared": "on"})
    view = SavedView.objects.get()
    assert response["Location"] == f"/inbox/?view=saved-{view.pk}"
    assert view.filters == {"priority": ["urgent"], "open_only": True} and view.shared and view.sort == "oldest"
    response = staff.get(f"/inbox/?view=saved-{view.pk}")
    assert _numbers(response) == [c.number for c in urgent]
    # a colleague sees the shared view but cannot delete it
    other = Client()
    other.force_login(s.colleague)
    assert other.get(f"/inbox/?view=saved-{view.pk}").status_code == 200
    assert other.post(f"/inbox/views/{view.pk}/delete/").status_code == 403
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_bulk_status_reports_each_refusal_and_changes_the_rest(staff: Client, s: Scenario) -> None:
    new_one = make_case()
    staff.post(f"/cases/{s.case.pk}/edit/", {"status": "solved"})
    staff.post(f"/cases/{s.case.pk}/edit/", {"status": "closed"})
    response = staff.post("/inbox/bulk/", {"cases": [new_one.pk, s.case.pk, 424242], "op": "status",
                                           "status": "pending", "next": "/inbox/?view=open"}, follow=True)  # fmt: skip
    assert response.redirect_chain[-1][0] == "/inbox/?view=open"
    text = response.content.decode()
    assert "1 case set to pending (waiting on customer)." in text
    assert f"Not changed: {s.case.number} is closed and cannot change. Case 424242 was not found." in text
    assert Case.objects.get(pk=new_one.pk).status == CaseStatus.PENDING
    assert Case.objects.get(pk=s.case.pk).status == CaseStatus.CLOSED


def test_bulk_assign_and_tag_call_the_action_per_case(staff: Client, s: Scenario) -> None:
    cases = [make_case(), make_case()]
    ids = [c.pk for c in cases]
    staff.post("/inbox/bulk/", {"cases": ids, "op": "assign", "assignee": str(s.colleague.pk)})
    staff.post("/inbox/bulk/", {"cases": ids, "op": "tag", "tag": "Recall"})
    for case in Case.objects.filter(pk__in=ids):
        assert case.assignee_id == s.colleague.pk
        assert [t.name for t in case.tags.all()] == ["recall"]
    # one timeline entry per case and change, as if done one by one
    from caseloop.timeline.models import TimelineEvent

    assert TimelineEvent.objects.filter(case_id__in=ids, kind="case.assigned", subject_kind="case").count() == 2


# --- the case page ---------------------------------------------------------------------------------
def test_case_page_shows_conversation_in_order_and_customer_html_sanitised(staff: Client, s: Scenario) -> None:
    html = staff.get(f"/cases/{s.case.pk}/").content.decode()
    bodies = ["grinding noise", "short video", "It is loud", "drive gear"]
    positions = [html.index(b) for b in bodies]
    assert positions == sorted(positions)
    assert "<b>It is loud</b>" in html and "alert(1)" not in html
    assert "Internal note" in html and "from the customer" in html and "reply to the customer" in html
    # the customer panel: other site history from before the current owner, orders, assets
    assert "Spring snapped on the garage door" in html and "Tom Older" in html and "SO-88121" in html


def test_reply_and_note_post_through_the_action(staff: Client, s: Scenario) -> None:
    response = staff.post(f"/cases/{s.case.pk}/messages/", {"kind": "reply", "body": "On our way <b>today</b>."})
    assert response.status_code == 302
    response = staff.post(f"/cases/{s.case.pk}/messages/", {"kind": "note", "body": "Van 3."},
                          headers={"HX-Request": "true"})  # fmt: skip
    assert response.status_code == 200 and response["HX-Trigger"] == "case-changed"
    assert "On our way &lt;b&gt;today&lt;/b&gt;." in response.content.decode()  # escaped, not markup
    last = list(Message.objects.filter(case=s.case).order_by("-id").values_list("direction", "channel", "author_user"))
    assert last[:2] == [(Direction.NOTE, "internal", s.agent.pk), (Direction.OUTBOUND, "email", s.agent.pk)]


def test_empty_reply_is_refused_and_keeps_nothing(staff: Client, s: Scenario) -> None:
    response = staff.post(f"/cases/{s.case.pk}/messages/", {"kind": "reply", "body": "   "},
                          headers={"HX-Request": "true"})  # fmt: skip
    assert response.status_code == 422
    assert "A message needs some text or an attachment." in response.content.decode()
    assert s.case.messages.count() == 4


def test_reply_with_attachment_can_be_downloaded_by_staff_only(staff: Client, s: Scenario, customer) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [SimpleUploadedFile("a.txt", b"alpha"), SimpleUploadedFile("b.csv", b"1,2")]
    staff.post(f"/cases/{s.case.pk}/messages/", {"kind": "reply", "body": "Two files", "attachments": files})
    message = s.case.messages.order_by("-id")[0]
    links = list(message.message_attachments.order_by("filename"))
    assert [link.filename for link in links] == ["a.txt", "b.csv"]
    response = staff.get(f"/attachments/{links[0].pk}/")
    assert response.status_code == 200 and response.getvalue() == b"alpha"
    assert response["Content-Disposition"].startswith("attachment;")
    outsider = Client()
    outsider.force_login(customer)
    assert outsider.get(f"/attachments/{links[0].pk}/").status_code == 403


@pytest.mark.parametrize(
    ("data", "field", "expected"),
    [
        ({"priority": "urgent"}, "priority", "urgent"),
        ({"status": "pending"}, "status", "pending"),
        ({"add_tag": "warranty, noisy"}, None, None),
        ({"remove_tag": "doors"}, None, None),
    ],
)
def test_in_place_edits(staff: Client, s: Scenario, data, field, expected) -> None:
    response = staff.post(f"/cases/{s.case.pk}/edit/", data, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Trigger"] == "case-changed"
    case = Case.objects.get(pk=s.case.pk)
    if field:
        assert getattr(case, field) == expected
    tags = sorted(t.name for t in case.tags.all())
    if "add_tag" in data:
        assert tags == ["doors", "noisy", "warranty"]
    if "remove_tag" in data:
        assert tags == []


def test_in_place_assignee_and_team(staff: Client, s: Scenario) -> None:
    staff.post(f"/cases/{s.case.pk}/edit/", {"assignee": str(s.colleague.pk)})
    staff.post(f"/cases/{s.case.pk}/edit/", {"team": ""})
    case = Case.objects.get(pk=s.case.pk)
    assert case.assignee_id == s.colleague.pk and case.team_id is None
    customer_contact = make_contact()
    response = staff.post(f"/cases/{s.case.pk}/edit/", {"assignee": "999"}, headers={"HX-Request": "true"})
    assert response.status_code == 422 and customer_contact.pk  # refused; nothing changed
    assert Case.objects.get(pk=s.case.pk).assignee_id == s.colleague.pk


def test_illegal_status_change_shows_the_reason_in_place(staff: Client, s: Scenario) -> None:
    response = staff.post(f"/cases/{s.case.pk}/edit/", {"status": "closed"}, headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert "cannot go from open to closed" in response.content.decode()
    assert "HX-Trigger" not in response
    assert Case.objects.get(pk=s.case.pk).status == CaseStatus.OPEN


def test_macro_fill_appends_the_rendered_macro(staff: Client, s: Scenario) -> None:
    macro = Macro.objects.get(name="Ask for photo")
    response = staff.get(f"/cases/{s.case.pk}/macro/", {"macro": str(macro.pk), "body": "Hello."})
    assert response.content.decode().strip() == (
        '<textarea id="composer-body" name="body" rows="5" placeholder="Write a reply… (Ctrl+Enter sends)">Hello.\n\n'
        f"Hi Ann, could you send a photo? Regards, Dana Reyes ({s.case.number})</textarea>"
    )
    other = make_agent()
    intruder = Client()
    intruder.force_login(other)
    assert intruder.get(f"/cases/{s.case.pk}/macro/", {"macro": str(macro.pk)}).status_code == 404  # private macro


def test_presence_shows_colleagues_viewing_or_replying(staff: Client, s: Scenario) -> None:
    colleague = Client()
    colleague.force_login(s.colleague)
    colleague.post(f"/cases/{s.case.pk}/presence/", {"activity": "replying"})
    response = staff.post(f"/cases/{s.case.pk}/presence/", {"activity": "viewing"})
    assert "Eli Brooks</strong> is replying to this case now" in response.content.decode()
    response = colleague.post(f"/cases/{s.case.pk}/presence/", {"activity": "viewing"})
    assert "Dana Reyes</strong> is viewing this case" in response.content.decode()
    colleague.post(f"/cases/{s.case.pk}/presence/leave/")
    assert "Eli" not in staff.post(f"/cases/{s.case.pk}/presence/").content.decode()
    assert list(CasePresence.objects.values_list("user_id", flat=True)) == [s.agent.pk]


# --- records, search, team -----------------------------------------------------------------------------
def test_asset_page_has_the_whole_history_with_earlier_owners(staff: Client, s: Scenario) -> None:
    html = staff.get(f"/assets/{s.door.pk}/").content.decode()
    assert "Spring snapped on the garage door" in html and "Tom Older <span" in html and "(earlier owner)" in html
    assert "2x 0.243 x 32in" in html


def test_site_and_contact_pages_and_timeline_paging(staff: Client, s: Scenario) -> None:
    html = staff.get(f"/sites/{s.site.pk}/").content.decode()
    assert "Tom Older" in html and "(earlier)" in html and "Ann Smith" in html and "current" in html
    html = staff.get(f"/contacts/{s.contact.pk}/").content.decode()
    assert "ann@example.com" in html and "SO-88121" in html and s.case.number in html
    for i in range(30):
        make_case(requester=s.contact, subject=f"Follow-up {i}")
    html = staff.get(f"/contacts/{s.contact.pk}/").content.decode()
    older = re.search(r'hx-get="(/contacts/\d+/\?before=\d+)"', html)
    assert older is not None
    more = staff.get(older.group(1), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in more and "tl-item" in more


def test_merged_contact_page_redirects_to_the_survivor(staff: Client, s: Scenario) -> None:
    from caseloop.customers.actions import merge_contacts

    duplicate = make_contact(name="Ann S.")
    merge_contacts(actor=s.agent, source=duplicate, target=s.contact)
    response = staff.get(f"/contacts/{duplicate.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/contacts/{s.contact.pk}/"


def test_search_finds_cases_messages_people_and_assets(staff: Client, s: Scenario) -> None:
    html = staff.get("/search/", {"q": "grinding"}).content.decode()
    assert "<mark>grinding</mark>" in html and s.case.number in html
    html = staff.get("/search/", {"q": "ann@example.com"}).content.decode()
    assert f'href="/contacts/{s.contact.pk}/"' in html
    html = staff.get("/search/", {"q": "GD-2040"}).content.decode()
    assert f'href="/assets/{s.door.pk}/"' in html
    response = staff.get("/search/", {"q": s.case.number.lower()})
    assert response.status_code == 302 and response["Location"] == f"/cases/{s.case.pk}/"
    assert "Search for at least one word." in staff.get("/search/", {"q": "!!"}).content.decode()


def test_search_snippets_escape_customer_text(staff: Client, s: Scenario) -> None:
    make_case(subject="Widget <img src=x onerror=alert(1)> broken")
    html = staff.get("/search/", {"q": "widget"}).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html


def test_team_overview_is_for_managers(staff: Client, s: Scenario) -> None:
    assert staff.get("/team/").status_code == 403
    manager = Client()
    manager.force_login(make_agent(role=Role.MANAGER))
    html = manager.get("/team/").content.decode()
    assert "Doors and openers" in html and "Dana Reyes" in html and "2 open cases" in html


def test_macros_page_creates_and_deletes(staff: Client, s: Scenario) -> None:
    response = staff.post("/macros/", {"name": "Bye", "body": "Bye {{ customer.first_name }}"})
    assert response.status_code == 302
    macro = Macro.objects.get(name="Bye")
    response = staff.post("/macros/", {"name": "Bad", "body": "{{ user.password }}"})
    assert response.status_code == 422 and "Unknown placeholder user.password" in response.content.decode()
    staff.post(f"/macros/{macro.pk}/delete/")
    assert not Macro.objects.filter(name__in=["Bye", "Bad"]).exists()


# --- query counts: an N+1 cannot creep into the hot pages -----------------------------------------------
def test_inbox_query_count_does_not_grow_with_cases(staff: Client, s: Scenario, django_assert_max_num_queries) -> None:
    add_inbox_cases(s)
    # 13, plus the "SLA due soon" count, one query for the page's SLA badges, and the page's ids walked apart
    # from its rows (cases.selectors.case_page)
    with django_assert_max_num_queries(16):
        assert staff.get("/inbox/?view=open").status_code == 200
    add_inbox_cases(s)
    with django_assert_max_num_queries(16):
        assert len(_numbers(staff.get("/inbox/?view=open"))) == 22


def test_case_page_query_count_does_not_grow_with_messages(staff: Client, s: Scenario,
                                                           django_assert_max_num_queries) -> None:  # fmt: skip
    from caseloop.cases.actions import MessageInput, add_message
    from caseloop.cases.attachments import AttachmentInput

    # 18, plus 2 for email (trimmed texts and delivery states, one query each for all messages)
    with django_assert_max_num_queries(20):
        assert staff.get(f"/cases/{s.case.pk}/").status_code == 200
    for i in range(15):
        body = MessageInput(body_text=f"Update {i}", attachments=[AttachmentInput(f"f{i}.txt", b"x" * i)])
        add_message(actor=s.agent, case=s.case, direction=Direction.OUTBOUND, body=body)
        make_case(requester=s.contact, asset=s.door)
    with django_assert_max_num_queries(20):
        assert staff.get(f"/cases/{s.case.pk}/").status_code == 200


def test_htmx_request_after_session_expiry_redirects_the_whole_window(client: Client, s: Scenario) -> None:
    response = client.post(f"/cases/{s.case.pk}/presence/", headers={"HX-Request": "true",
                           "HX-Current-URL": f"/cases/{s.case.pk}/"})  # fmt: skip
    assert response.status_code == 401 and response["HX-Redirect"] == f"/login/?next=/cases/{s.case.pk}/"


def test_bad_view_name_or_cursor_is_a_clear_400_or_422(staff: Client) -> None:
    response = staff.get("/inbox/?view=nope")
    assert response.status_code == 422 and "There is no inbox view 'nope'." in unescape(response.content.decode())
    response = staff.get("/inbox/?view=open&cursor=forged")
    assert response.status_code == 400 and "The cursor is not valid" in response.content.decode()
    response = staff.get("/inbox/?status=bogus")
    assert response.status_code == 422 and "status has unknown values bogus." in response.content.decode()


def test_sort_alone_keeps_the_view_and_a_filter_replaces_it(staff: Client, s: Scenario) -> None:
    add_inbox_cases(s)
    response = staff.get("/inbox/?view=unassigned&sort=oldest")
    unassigned = Case.objects.filter(assignee__isnull=True).exclude(status="closed").order_by("id")
    assert _numbers(response) == [c.number for c in unassigned]
    response = staff.get("/inbox/?view=unassigned&priority=urgent&sort=oldest")
    assert _numbers(response) == [c.number for c in Case.objects.filter(priority="urgent").order_by("id")]
    assert '<h1 id="inbox-title">Filtered</h1>' in response.content.decode()


def test_sla_due_soon_view_lists_overdue_first_and_every_row_says_its_sla_state(staff: Client, s: Scenario) -> None:
    import datetime as dt

    from caseloop.cases.actions import change_status
    from caseloop.core import clock
    from caseloop.sla.actions import save_policy

    admin = make_agent(username="ada", role=Role.ADMIN)
    save_policy(actor=admin, name="Fast", first_response_minutes=30, resolution_minutes=24 * 60)
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with clock.frozen_at(start):
        late = make_case(subject="Opened first, now overdue")
    with clock.frozen_at(start + dt.timedelta(minutes=20)):
        soon = make_case(subject="Due in a quarter hour", tags=["spring", "garage"])
        waiting = make_case(subject="Waiting on the customer")
        change_status(actor=s.agent, case=waiting, status=CaseStatus.PENDING)
    with clock.frozen_at(start + dt.timedelta(minutes=120)):
        fresh = make_case(subject="Opened just now")
    with clock.frozen_at(start + dt.timedelta(minutes=35)):
        html = staff.get("/inbox/?view=due").content.decode()
        assert _numbers_in(html) == [late.number, soon.number]
        assert "Overdue 5m" in html and "Due in 15m" in html
        assert re.findall(r'<span class="tag">([^<]+)</span>', html) == ["garage", "spring"]  # its rows' tags too
        counts = dict(re.findall(r'<span>([\w ]+)</span><span class="count">([\d,+]+)</span>', html))
        assert counts["SLA due soon"] == "2"
        every = staff.get("/inbox/?view=open").content.decode()
        assert "Paused" in every and "Due in" in every  # the waiting case, and the fresh one running
    assert fresh.number in every


def _numbers_in(html: str) -> list[str]:
    return re.findall(r'<span class="case-number">([^<]+)</span>', html)
