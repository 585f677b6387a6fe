"""The SLA set-up pages: business calendars and SLA policies, listed for managers, changed by administrators."""

from __future__ import annotations

import pytest

from caseloop.customers.actions import create_organization
from caseloop.sla.actions import save_calendar, save_policy
from caseloop.sla.models import BusinessCalendar, SlaPolicy
from caseloop.testing.web import signed_in

pytestmark = pytest.mark.django_db

OFFICE = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
WEEK = {f"hours_{day}": "" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def office(admin_user):
    return save_calendar(actor=admin_user, name="Office", time_zone="Europe/Paris", hours=OFFICE)


def calendar_post(**changes: str) -> dict[str, str]:
    return {
        "name": "Lyon office",
        "time_zone": "Europe/Paris",
        **WEEK,
        "hours_mon": "08:00-12:00, 13:00-18:00",
        "hours_sat": "09:00-12:00",
        "holidays": "2026-12-25\n2026-05-01",
        **changes,
    }


def policy_post(**changes: object) -> dict[str, object]:
    return {
        "name": "Urgent by phone",
        "position": "10",
        "is_active": "on",
        "priorities": ["urgent"],
        "channels": ["phone", "chat"],
        "organization": "",
        "calendar": "",
        "first_response_minutes": "15",
        "next_response_minutes": "",
        "resolution_minutes": "240",
        "warn_minutes": "5",
        "promise_first_response": "on",
        **changes,
    }


def test_an_administrator_adds_a_calendar_with_split_hours_and_holidays(admin_user):
    response = signed_in(admin_user).post("/sla/calendars/", calendar_post())
    assert (response.status_code, response["Location"]) == (302, "/sla/calendars/")
    calendar = BusinessCalendar.objects.get(name="Lyon office")
    assert calendar.hours == {"mon": ["08:00-12:00", "13:00-18:00"], "sat": ["09:00-12:00"]}
    assert (calendar.time_zone, calendar.holidays) == ("Europe/Paris", ["2026-05-01", "2026-12-25"])
    page = signed_in(admin_user).get("/sla/calendars/").content.decode()
    assert "Lyon office" in page and "Mon 08:00-12:00, 13:00-18:00" in page and "Sun closed" in page


def test_a_refused_calendar_shows_the_problem_beside_its_field_and_keeps_what_was_typed(admin_user):
    client = signed_in(admin_user)
    bad_day = client.post("/sla/calendars/", calendar_post(hours_tue="17:00-09:00"))
    assert bad_day.status_code == 422
    page = bad_day.content.decode()
    assert 'id="cal-hours-tue-error"' in page and "must start before it ends" in page
    assert 'value="08:00-12:00, 13:00-18:00"' in page  # Monday as typed
    zone = client.post("/sla/calendars/", calendar_post(time_zone="Atlantis/City"))
    assert zone.status_code == 422 and 'id="cal-zone-error"' in zone.content.decode()
    holiday = client.post("/sla/calendars/", calendar_post(holidays="next friday"))
    assert holiday.status_code == 422 and 'id="cal-holidays-error"' in holiday.content.decode()
    empty = client.post("/sla/calendars/", calendar_post(name=""))
    assert empty.status_code == 422 and 'id="cal-name-error"' in empty.content.decode()
    assert not BusinessCalendar.objects.exists()


def test_a_calendar_name_taken_is_a_conflict_on_the_name(admin_user, office):
    response = signed_in(admin_user).post("/sla/calendars/", calendar_post(name="office"))
    assert response.status_code == 409 and 'id="cal-name-error"' in response.content.decode()
    assert BusinessCalendar.objects.count() == 1


def test_an_administrator_changes_a_calendars_hours_on_its_page(admin_user, office):
    client = signed_in(admin_user)
    form = client.get(f"/sla/calendars/{office.pk}/").content.decode()
    assert 'value="09:00-17:00"' in form and "Save the calendar" in form
    response = client.post(f"/sla/calendars/{office.pk}/", calendar_post(name="Office", hours_fri="09:00-15:00"))
    assert response.status_code == 302
    office.refresh_from_db()
    assert office.hours["fri"] == ["09:00-15:00"] and office.hours["sat"] == ["09:00-12:00"]
    assert office.holidays == ["2026-05-01", "2026-12-25"]


def test_a_manager_sees_calendars_and_policies_but_cannot_change_them(manager, office, admin_user):
    policy = save_policy(actor=admin_user, name="Standard", first_response_minutes=240, calendar=office)
    client = signed_in(manager)
    for url in ("/sla/calendars/", f"/sla/calendars/{office.pk}/", "/sla/policies/", f"/sla/policies/{policy.pk}/"):
        page = client.get(url)
        assert page.status_code == 200 and "setup-form" not in page.content.decode()
    assert client.post(f"/sla/calendars/{office.pk}/", calendar_post(name="Mine")).status_code == 403
    assert client.post("/sla/policies/", policy_post()).status_code == 403
    office.refresh_from_db()
    assert office.name == "Office" and SlaPolicy.objects.count() == 1


def test_an_agent_is_refused_the_set_up_pages(agent, office):
    client = signed_in(agent)
    for url in ("/sla/calendars/", f"/sla/calendars/{office.pk}/", "/sla/policies/"):
        assert client.get(url).status_code == 403
    assert client.post("/sla/calendars/", calendar_post()).status_code == 403
    assert BusinessCalendar.objects.count() == 1


def test_an_administrator_adds_a_policy_matching_priority_channel_tier_and_organization(admin_user, office):
    acme = create_organization(actor=admin_user, name="Acme Doors")
    response = signed_in(admin_user).post(
        "/sla/policies/",
        policy_post(calendar=str(office.pk), tiers=["vip"], organization="acme doors"),
    )
    assert (response.status_code, response["Location"]) == (302, "/sla/policies/")
    policy = SlaPolicy.objects.get(name="Urgent by phone")
    assert (policy.priorities, policy.channels, policy.tiers) == (["urgent"], ["phone", "chat"], ["vip"])
    assert (policy.organization, policy.calendar, policy.position) == (acme, office, 10)
    assert (policy.first_response_minutes, policy.next_response_minutes, policy.resolution_minutes) == (15, None, 240)
    assert (policy.warn_minutes, policy.is_active, policy.promise_first_response) == (5, True, True)
    listing = signed_in(admin_user).get("/sla/policies/").content.decode()
    assert f'href="/sla/policies/{policy.pk}/"' in listing and "urgent; phone, chat; vip; Acme Doors" in listing


def test_a_refused_policy_says_which_field(admin_user):
    client = signed_in(admin_user)
    no_target = client.post("/sla/policies/", policy_post(first_response_minutes="", resolution_minutes=""))
    assert no_target.status_code == 422 and 'id="pol-first_response_minutes-error"' in no_target.content.decode()
    nobody = client.post("/sla/policies/", policy_post(organization="Nobody Ltd"))
    assert nobody.status_code == 422 and "No organization is named" in nobody.content.decode()
    negative = client.post("/sla/policies/", policy_post(warn_minutes="-1"))
    assert negative.status_code == 422 and 'id="pol-warn-error"' in negative.content.decode()
    page = negative.content.decode()
    assert 'value="urgent" checked' in page and 'value="Urgent by phone"' in page  # what was typed stays
    assert not SlaPolicy.objects.exists()


def test_an_administrator_changes_a_policy_and_can_switch_it_off(admin_user, office):
    policy = save_policy(actor=admin_user, name="Standard", first_response_minutes=240, priorities=["normal"])
    client = signed_in(admin_user)
    form = client.get(f"/sla/policies/{policy.pk}/").content.decode()
    assert 'value="normal" checked' in form and 'value="240"' in form
    changed = policy_post(name="Standard", calendar=str(office.pk), priorities=["normal", "low"], channels=[])
    del changed["is_active"]
    assert client.post(f"/sla/policies/{policy.pk}/", changed).status_code == 302
    policy.refresh_from_db()
    assert (policy.priorities, policy.channels, policy.calendar, policy.is_active) == (
        ["normal", "low"],
        [],
        office,
        False,
    )


def test_the_workspace_links_the_set_up_pages(manager):
    review = signed_in(manager).get("/policies/review/").content.decode()
    assert 'href="/sla/policies/"' in review and 'href="/sla/calendars/"' in review


def test_the_time_zone_list_is_read_once_per_process(admin_user, monkeypatch):
    from caseloop.sla import views

    reads: list[int] = []

    def available_timezones() -> set[str]:
        reads.append(1)
        return {"Europe/Paris", "Asia/Tokyo"}

    monkeypatch.setattr(views, "available_timezones", available_timezones)
    views._zones.cache_clear()
    try:
        client = signed_in(admin_user)
        for _ in range(2):
            page = client.get("/sla/calendars/").content.decode()
            assert '<option value="Asia/Tokyo"><option value="Europe/Paris">' in page  # offered, sorted
        assert reads == [1]  # walking ~600 files of the time zone database on every page cost ~10 ms
    finally:
        views._zones.cache_clear()  # the real list for the tests after this one
