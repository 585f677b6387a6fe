"""A partner signs in to the portal (and may use the API) and works only what is attributed to it.

Pat works for Fast Installs, which was given two of Oscar's cases: installing a
boiler, and servicing the boiler at 9 Elm Road. Oscar's own "Boiler leaks" on
that same boiler, the water softener beside it, Ann's house and a rival
installer's job are not Fast Installs' work: every guessed id of them, on every
portal page and API route a partner reaches, is "not found", and nothing is
written. Internal notes and their files stay internal.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from caseloop.cases.actions import MessageInput, add_message
from caseloop.cases.attachments import AttachmentInput
from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Case, Message, MessageAttachment
from caseloop.customers.actions import create_asset, create_organization
from caseloop.customers.choices import OrganizationKind
from caseloop.customers.models import Asset, Organization
from caseloop.identity.actions import create_user
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.portal.models import SignInLink
from caseloop.portal.tests.world import World, build_world, contact_of
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case, make_contact
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db

PARTNER_NOTE = "Internal: Fast Installs is on probation, check their work."


@dataclass
class Work:
    world: World
    pat: User
    fast: Organization
    service_case: Case  # attributed to Fast Installs, about Oscar's boiler
    rival_case: Case  # attributed to another partner, at the same site
    softener: Asset  # at Oscar's site, in no case of Fast Installs
    note_file: MessageAttachment  # on an attributed case
    public_file: MessageAttachment  # on an attributed case

    @property
    def attributed(self) -> list[Case]:
        return [self.world.partner_case, self.service_case]

    @property
    def not_theirs(self) -> list[Case]:
        w = self.world
        return [w.oscar_case, w.ann_case, w.cleo_case, w.tom_case, self.rival_case]


@pytest.fixture
def work() -> Work:
    world = build_world()
    pat = world.partner
    fast = Organization.objects.get(name="Fast Installs")
    oscar = contact_of(world.oscar)
    service = make_case(requester=oscar, subject="Service the boiler", asset=world.oscar_asset, partner=fast,
                        body="Yearly service, please.")  # fmt: skip
    note = add_message(actor=world.agent, case=service, direction=Direction.NOTE, channel=Channel.INTERNAL,
                       body=MessageInput(body_text=PARTNER_NOTE,
                                         attachments=[AttachmentInput("margins.pdf", b"%PDF margins")]))  # fmt: skip
    reply = add_message(actor=world.agent, case=service, direction=Direction.OUTBOUND, channel=Channel.EMAIL,
                        body=MessageInput(body_text="Fast Installs will come on Tuesday.",
                                          attachments=[AttachmentInput("plan.pdf", b"%PDF-1.4 plan")]))  # fmt: skip
    rival = create_organization(actor=None, name="Rival Fitters", kind=OrganizationKind.PARTNER)
    softener = create_asset(actor=None, name="Water softener", serial_number="WS-9", site=world.oscar_site)
    rival_case = make_case(requester=oscar, subject="Fit the softener", asset=softener, partner=rival,
                           body="Fit it.")  # fmt: skip
    return Work(world=world, pat=pat, fast=fast, service_case=service, rival_case=rival_case, softener=softener,
                note_file=MessageAttachment.objects.get(message=note.message),
                public_file=MessageAttachment.objects.get(message=reply.message))  # fmt: skip


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _secrets_absent(html: str) -> None:
    for secret in (PARTNER_NOTE, "margins.pdf", "Boiler leaks", "Door grinding", "Fit the softener", "Water softener",
                   "Key under the blue pot", "Invoice for the office door", "Spring snapped"):  # fmt: skip
        assert secret not in html, secret


# --- the portal ---------------------------------------------------------------------------------------------
def test_a_partner_lists_exactly_the_work_attributed_to_its_organization(work):
    page = signed_in(work.pat).get("/portal/")
    html = page.content.decode()
    assert page.status_code == 200 and "Work for us" in html
    for case in work.attributed:
        assert case.number in html and case.subject in html
    for case in work.not_theirs:
        assert case.number not in html
    _secrets_absent(html)
    assert 'href="/portal/cases/new/"' not in html  # a partner does not open requests


def test_a_partner_reads_an_attributed_case_without_its_internal_notes(work):
    pat = signed_in(work.pat)
    html = pat.get(f"/portal/cases/{work.service_case.pk}/").content.decode()
    assert "Yearly service, please." in html and "Oscar Other, the customer" in html
    assert "Fast Installs will come on Tuesday." in html and "plan.pdf" in html and "Add an update" in html
    _secrets_absent(html)
    assert pat.get(f"/portal/files/{work.note_file.pk}/").status_code == 404
    assert pat.get(f"/portal/files/{work.public_file.pk}/").status_code == 200


def test_every_guessed_id_on_every_portal_page_is_not_found_for_a_partner(work):
    w = work.world
    pat = signed_in(work.pat)
    urls = [f"/portal/cases/{c.pk}/" for c in work.not_theirs] + [
        "/portal/cases/999999/", f"/portal/files/{w.public_file.pk}/", f"/portal/files/{w.note_file.pk}/",
        f"/portal/places/{w.site.pk}/", f"/portal/equipment/{w.door.pk}/", f"/portal/equipment/{work.softener.pk}/",
        "/portal/places/999999/", "/portal/equipment/999999/",
    ]  # fmt: skip
    for url in urls:
        response = pat.get(url)
        assert response.status_code == 404, url
        assert "It does not exist, or it is not one of yours." in response.content.decode()
        _secrets_absent(response.content.decode())
    before = Message.objects.count()
    for case in work.not_theirs:
        response = pat.post(f"/portal/cases/{case.pk}/reply/", {"message": "Pat was here"})
        assert response.status_code == 404, case.subject
    assert Message.objects.count() == before


def test_a_partner_cannot_open_a_request(work):
    pat = signed_in(work.pat)
    before = Case.objects.count()
    form = pat.get("/portal/cases/new/")
    assert form.status_code == 403 and "partners work the requests given to them" in form.content.decode()
    posted = pat.post("/portal/cases/new/", {"subject": "Extra job", "message": "x",
                                              "about": f"asset:{work.world.oscar_asset.pk}"})  # fmt: skip
    assert posted.status_code == 403 and Case.objects.count() == before
    from caseloop.core.errors import PermissionDenied
    from caseloop.portal.actions import open_case

    with pytest.raises(PermissionDenied):
        open_case(actor=work.pat, subject="Extra job", text="x")
    assert Case.objects.count() == before


def test_a_partner_update_joins_the_conversation_as_the_partner_speaking_for_us(work):
    w = work.world
    pat = signed_in(work.pat)
    response = pat.post(f"/portal/cases/{work.service_case.pk}/reply/",
                        {"message": "Booked for Tuesday 9-12.", "form_token": "portal-reply-token-p1"})  # fmt: skip
    assert response.status_code == 302
    message = work.service_case.messages.order_by("id").last()
    assert (message.direction, message.channel, message.author_contact_id, message.author_user_id) == (
        Direction.INBOUND, Channel.PORTAL, contact_of(work.pat).pk, None)  # fmt: skip
    assert "You" in pat.get(f"/portal/cases/{work.service_case.pk}/").content.decode()
    # the customer reads it from our side, as the partner working with us
    oscar_page = signed_in(w.oscar).get(f"/portal/cases/{work.service_case.pk}/").content.decode()
    assert "Pat Partner, working with us" in oscar_page
    # the rep sees who wrote it
    staff_page = signed_in(w.agent).get(f"/cases/{work.service_case.pk}/").content.decode()
    assert "from the partner" in staff_page


def test_a_partner_sees_the_places_and_equipment_of_its_work_only(work):
    w = work.world
    pat = signed_in(work.pat)
    places = pat.get("/portal/places/").content.decode()
    assert "9 Elm Road" in places and "Boiler" in places
    assert "12 Maple Street" not in places and "Garage door" not in places and "Water softener" not in places
    site = pat.get(f"/portal/places/{w.oscar_site.pk}/").content.decode()
    asset = pat.get(f"/portal/equipment/{w.oscar_asset.pk}/").content.decode()
    for html in (site, asset):
        assert "Service the boiler" in html
        _secrets_absent(html)


# --- signing in ---------------------------------------------------------------------------------------------
def test_a_partner_user_gets_a_sign_in_link_and_signs_in_as_itself(work, django_capture_on_commit_callbacks):
    from caseloop.portal.actions import request_sign_in_link, sign_in_with_link

    with django_capture_on_commit_callbacks(execute=True):
        request_sign_in_link(email="pat@installs.test", ip_address="203.0.113.9")
    assert SignInLink.objects.get().identity.value == "pat@installs.test"
    from django.core import mail

    token = str(mail.outbox[-1].body).split("/portal/sign-in/")[1].split("/")[0]
    assert sign_in_with_link(token=token, ip_address=None) == work.pat
    assert User.objects.filter(role=Role.CUSTOMER, contact__organization=work.fast).count() == 0


def test_a_partner_contact_without_a_partner_user_or_a_deactivated_partner_gets_no_link(work):
    from caseloop.portal.actions import issue_sign_in_link

    make_contact(name="Sam Fitter", email="sam@installs.test", organization=work.fast)
    User.objects.filter(pk=work.pat.pk).update(is_active=False)
    for address in ("sam@installs.test", "pat@installs.test"):
        assert issue_sign_in_link(address=address, ip_address=None) is None
    # a partner user whose organization is not a partner organization sees and gets nothing either
    stray = create_user(username="stray", role=Role.PARTNER)
    contact = make_contact(name="Stray", email="stray@example.com", organization=work.world.org)
    contact.user = stray
    contact.save(update_fields=["user"])
    assert issue_sign_in_link(address="stray@example.com", ip_address=None) is None
    assert "No work has been given" in signed_in(stray).get("/portal/").content.decode()


# --- the REST API -------------------------------------------------------------------------------------------
def test_the_api_gives_a_partner_its_cases_and_messages_and_nothing_else(work):
    api = ApiClient(work.pat)
    ids = {c["id"] for c in api.get("/cases", {"limit": 100}).json()["items"]}
    assert ids == {c.pk for c in work.attributed}
    for case in work.not_theirs:
        for path in (f"/cases/{case.pk}", f"/cases/{case.number}", f"/cases/{case.pk}/messages"):
            assert api.get(path).status_code == 404, path
        assert api.get("/timeline", {"subject": f"case:{case.pk}"}).status_code == 404
    texts = [m["body_text"] for m in api.get(f"/cases/{work.service_case.pk}/messages").json()["items"]]
    assert "Yearly service, please." in texts and PARTNER_NOTE not in texts
    listed = api.get("/cases", {"site": work.world.oscar_site.pk}).json()["items"]
    assert {c["id"] for c in listed} == {work.service_case.pk}


def test_the_api_refuses_a_partner_every_write_outside_its_work_and_changes_nothing(work):
    api = ApiClient(work.pat)
    before = (Message.objects.count(), Case.objects.count())
    for case in work.not_theirs:
        posted = api.post(f"/cases/{case.pk}/messages", {"body_text": "Pat was here", "direction": "inbound"})
        assert posted.status_code == 404
        assert api.patch(f"/cases/{case.pk}", {"priority": "urgent"}).status_code == 404
    # on its own work a partner writes updates, but does not rearrange the case, nor open cases
    assert api.patch(f"/cases/{work.service_case.pk}", {"priority": "urgent"}).status_code == 403
    note = api.post(f"/cases/{work.service_case.pk}/messages", {"body_text": "psst", "direction": "note"})
    assert note.status_code == 403
    opened = api.post("/cases", {"subject": "Extra job", "requester": {"email": "pat@installs.test"}})
    assert opened.status_code == 403
    assert (Message.objects.count(), Case.objects.count()) == before
    update = api.post(f"/cases/{work.service_case.pk}/messages", {"body_text": "Done.", "direction": "inbound"})
    assert update.status_code == 201 and update.json()["direction"] == "inbound"


def test_the_api_shows_a_partner_the_sites_and_assets_of_its_work_only(work):
    w = work.world
    api = ApiClient(work.pat)
    assert [s["id"] for s in api.get("/sites").json()["items"]] == [w.oscar_site.pk]
    assert [a["id"] for a in api.get("/assets").json()["items"]] == [w.oscar_asset.pk]
    assert api.get(f"/sites/{w.oscar_site.pk}").status_code == 200
    assert api.get(f"/assets/{w.oscar_asset.pk}").status_code == 200
    for path in (f"/sites/{w.site.pk}", f"/assets/{w.door.pk}", f"/assets/{work.softener.pk}",
                 f"/sites/{w.site.pk}/relations", f"/contacts/{contact_of(w.oscar).pk}",
                 f"/contacts/{contact_of(w.ann).pk}", f"/organizations/{w.org.pk}"):  # fmt: skip
        assert api.get(path).status_code == 404, path
    for subject in (f"site:{w.site.pk}", f"asset:{w.door.pk}", f"asset:{work.softener.pk}",
                    f"contact:{contact_of(w.oscar).pk}", f"organization:{w.org.pk}"):  # fmt: skip
        assert api.get("/timeline", {"subject": subject}).status_code == 404, subject
    assert api.get("/orders").json()["items"] == []


def test_the_timeline_of_a_partners_asset_keeps_service_kinds_of_its_own_cases(work):
    w = work.world
    history = ApiClient(work.pat).get("/timeline", {"subject": f"asset:{w.oscar_asset.pk}", "limit": 100}).json()
    # the boiler's full history holds Oscar's own "Boiler leaks" case, which is not Fast Installs' work
    assert TimelineEvent.objects.filter(subject_kind=SubjectKind.ASSET, subject_id=w.oscar_asset.pk,
                                        case_id=w.oscar_case.pk).exists()  # fmt: skip
    cases = {e["case_id"] for e in history["items"]}
    assert cases <= {work.service_case.pk, None} and work.service_case.pk in cases
    assert {e["kind"] for e in history["items"]} <= {"case.opened", "case.status_changed", "case.reopened",
                                                      "asset.installed", "asset.moved"}  # fmt: skip
    # the same rule for a customer: the asset's history shows no other customer's case
    door = ApiClient(w.ann).get("/timeline", {"subject": f"asset:{w.door.pk}", "limit": 100}).json()["items"]
    assert w.tom_case.pk not in {e["case_id"] for e in door} and w.ann_case.pk in {e["case_id"] for e in door}


def test_the_other_domains_routes_give_a_partner_its_own_promises_and_nothing_of_others(work):
    import datetime as dt

    from caseloop.core import clock

    w = work.world
    staff = ApiClient(w.agent)
    due = (clock.now() + dt.timedelta(days=2)).isoformat()
    theirs = staff.post("/promises", {"case": str(work.service_case.pk), "kind": "visit", "due_at": due,
                                      "description": "Fitter comes", "owner_partner": work.fast.pk})  # fmt: skip
    ours = staff.post("/promises", {"case": str(w.oscar_case.pk), "kind": "call_back", "due_at": due,
                                    "description": "Call Oscar about the leak"})  # fmt: skip
    assert theirs.status_code == ours.status_code == 201
    api = ApiClient(work.pat)
    assert [p["id"] for p in api.get("/promises").json()["items"]] == [theirs.json()["id"]]
    assert api.get(f"/promises/{theirs.json()['id']}").status_code == 200
    assert api.get(f"/promises/{ours.json()['id']}").status_code == 404
    for case in work.not_theirs:
        for path in (f"/feedback/surveys?case={case.pk}", f"/cases/{case.pk}/sla", f"/cases/{case.pk}/quotes",
                     f"/cases/{case.pk}/concessions"):  # fmt: skip
            response = api.get(path)
            assert response.status_code in (403, 404), path
            _secrets_absent(response.content.decode())
    # the staff-only figures and queues refuse a partner outright
    for path in ("/insights/segments", "/insights/alarm", "/approvals", "/overrides", "/users", "/teams",
                 "/feedback/follow-ups", "/feedback/thank-yous", "/custom-fields"):  # fmt: skip
        assert api.get(path).status_code == 403, path
    assert api.get("/price-book/items").json() == []  # the internal price history: nothing (the public book is public)
