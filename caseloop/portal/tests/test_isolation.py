"""A customer sees and answers only their own (or their sharing organization's) cases, sites and assets;
never an internal note, an internal file or an internal history event; a guessed id is "not found"."""

from __future__ import annotations

import pytest
from django.test import Client

from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.core.errors import NotFound
from caseloop.customers.actions import update_organization
from caseloop.portal.selectors import CUSTOMER_SAFE_KINDS, customer_history
from caseloop.portal.tests.world import NOTE_TEXT, PUBLIC_FILE, World, build_world
from caseloop.testing.web import signed_in
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


def test_the_list_shows_own_cases_only(world):
    html = signed_in(world.ann).get("/portal/").content.decode()
    assert world.ann_case.number in html and "Door grinding" in html
    for other in (world.cleo_case, world.oscar_case, world.tom_case, world.partner_case):
        assert other.number not in html and other.subject not in html


def test_another_customers_case_message_file_site_and_asset_are_not_found(world):
    ann = signed_in(world.ann)
    urls = [
        f"/portal/cases/{world.oscar_case.pk}/", f"/portal/cases/{world.cleo_case.pk}/",
        f"/portal/cases/{world.tom_case.pk}/", "/portal/cases/999999/", f"/portal/places/{world.oscar_site.pk}/",
        f"/portal/equipment/{world.oscar_asset.pk}/",
    ]  # fmt: skip
    for url in urls:
        response = ann.get(url)
        html = response.content.decode()
        assert response.status_code == 404, url
        assert "It does not exist, or it is not one of yours." in html
        assert "Boiler" not in html and "Oscar" not in html and "Tom" not in html


def test_a_reply_to_another_customers_case_is_not_found_and_writes_nothing(world):
    before = Message.objects.count()
    response = signed_in(world.ann).post(f"/portal/cases/{world.oscar_case.pk}/reply/", {"message": "Hi Oscar"})
    assert response.status_code == 404
    assert Message.objects.count() == before
    assert not Message.objects.filter(body_text="Hi Oscar").exists()


def test_internal_notes_and_their_files_are_never_shown(world):
    ann = signed_in(world.ann)
    html = ann.get(f"/portal/cases/{world.ann_case.pk}/").content.decode()
    assert "Here is our quote." in html and "quote.pdf" in html
    assert NOTE_TEXT not in html and "prices.pdf" not in html and "angry" not in html and "Dana Reyes, our team" in html
    assert ann.get(f"/portal/files/{world.note_file.pk}/").status_code == 404
    download = ann.get(f"/portal/files/{world.public_file.pk}/")
    assert download.status_code == 200 and download["Content-Disposition"] == 'attachment; filename="quote.pdf"'
    assert b"".join(download.streaming_content) == PUBLIC_FILE  # type: ignore[attr-defined]  # a FileResponse
    # a file of someone else's case is not found either
    assert signed_in(world.oscar).get(f"/portal/files/{world.public_file.pk}/").status_code == 404


def test_a_sharing_organization_shows_colleagues_cases_and_only_then(world, agent):
    ann = signed_in(world.ann)
    assert ann.get(f"/portal/cases/{world.cleo_case.pk}/").status_code == 404
    update_organization(actor=agent, organization=world.org, changes={"shares_cases": True})
    page = ann.get(f"/portal/cases/{world.cleo_case.pk}/")
    assert page.status_code == 200 and "by Cleo Park" in page.content.decode()
    assert world.cleo_case.number in ann.get("/portal/").content.decode()
    assert ann.get(f"/portal/cases/{world.oscar_case.pk}/").status_code == 404
    response = ann.post(f"/portal/cases/{world.cleo_case.pk}/reply/", {"message": "I can answer for Cleo."})
    assert response.status_code == 302
    message = world.cleo_case.messages.order_by("id").last()
    assert (message.body_text, message.author_contact.name) == ("I can answer for Cleo.", "Ann Smith")


def test_places_show_own_sites_and_assets_without_internal_facts(world):
    ann = signed_in(world.ann)
    places = ann.get("/portal/places/").content.decode()
    assert "12 Maple Street" in places and "Garage door" in places and "9 Elm Road" not in places
    site = ann.get(f"/portal/places/{world.site.pk}/").content.decode()
    asset = ann.get(f"/portal/equipment/{world.door.pk}/").content.decode()
    for html in (site, asset):
        assert "Key under the blue pot" not in html and "spring_size" not in html and "0.243" not in html
        assert "Tom" not in html and "Spring snapped" not in html  # the previous owner's repair is not hers
        assert "Door grinding" in html
    assert "GD-2040-117" in asset


def test_customer_history_keeps_safe_kinds_of_visible_cases_only(world):
    everything = set(TimelineEvent.objects.filter(subject_kind=SubjectKind.ASSET, subject_id=world.door.pk)
                     .values_list("kind", "case_id"))  # fmt: skip
    # the door's full timeline holds internal and other people's events ...
    assert ("case.opened", world.tom_case.pk) in everything
    assert "message.sent" in {kind for kind, _ in everything}
    history = customer_history(world.ann, subject_kind=SubjectKind.ASSET, subject_id=world.door.pk)
    # ... of which Ann sees the door's recording and her own case being opened, newest first
    assert [(e.kind, e.case_id) for e in history] == [("case.opened", world.ann_case.pk), ("asset.installed", None)]
    site_history = customer_history(world.ann, subject_kind=SubjectKind.SITE, subject_id=world.site.pk)
    assert {e.kind for e in site_history} <= CUSTOMER_SAFE_KINDS
    assert "site.relation_started" not in {e.kind for e in site_history}
    case_history = customer_history(world.ann, subject_kind=SubjectKind.CASE, subject_id=world.ann_case.pk)
    assert [e.kind for e in case_history] == ["case.status_changed", "case.opened"]  # not assigned, noted, tagged
    for kind, ident in ((SubjectKind.ASSET, world.oscar_asset.pk), (SubjectKind.SITE, world.oscar_site.pk),
                        (SubjectKind.CASE, world.oscar_case.pk), (SubjectKind.CONTACT, 1)):  # fmt: skip
        with pytest.raises(NotFound):
            customer_history(world.ann, subject_kind=kind, subject_id=ident)


def test_staff_are_refused_from_every_portal_page(world):
    # partners come in and see their attributed work only (test_partners.py)
    for user in (world.agent,):
        client = signed_in(user)
        for url in ("/portal/", f"/portal/cases/{world.partner_case.pk}/", f"/portal/cases/{world.ann_case.pk}/",
                    "/portal/places/", "/portal/cases/new/"):  # fmt: skip
            response = client.get(url)
            html = response.content.decode()
            assert response.status_code == 403, (user, url)
            assert "The portal is for our customers" in html
            assert "Install a boiler" not in html and "Door grinding" not in html
        before = Message.objects.count()
        assert client.post(f"/portal/cases/{world.partner_case.pk}/reply/", {"message": "x"}).status_code == 403
        assert Message.objects.count() == before


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(world):
    response = Client().get(f"/portal/cases/{world.ann_case.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/portal/sign-in/?next=/portal/cases/{world.ann_case.pk}/"


# --- writing --------------------------------------------------------------------------------------------------
def test_a_new_request_is_a_portal_case_about_an_own_asset_and_a_double_submit_makes_one(world):
    ann = signed_in(world.ann)
    form = ann.get("/portal/cases/new/").content.decode()
    assert f'value="asset:{world.door.pk}"' in form and f"asset:{world.oscar_asset.pk}" not in form
    data = {"subject": "Remote stopped working", "message": "Batteries are new.", "about": f"asset:{world.door.pk}",
            "form_token": "portal-form-token-0001"}  # fmt: skip
    first, again = ann.post("/portal/cases/new/", data), ann.post("/portal/cases/new/", data)
    case = Case.objects.get(subject="Remote stopped working")
    assert first["Location"] == again["Location"] == f"/portal/cases/{case.pk}/"
    assert (case.channel, case.requester.user_id, case.asset_id, case.site_id, case.team_id) == (
        Channel.PORTAL, world.ann.pk, world.door.pk, world.site.pk, None)  # fmt: skip
    assert case.messages.get().body_text == "Batteries are new."


def test_a_new_request_about_someone_elses_asset_is_refused(world):
    before = Case.objects.count()
    # the choice is not offered; posting it anyway is refused by the form, and by the action behind it
    response = signed_in(world.ann).post("/portal/cases/new/", {"subject": "Boiler", "message": "x",
                                                                "about": f"asset:{world.oscar_asset.pk}"})  # fmt: skip
    assert response.status_code == 422 and Case.objects.count() == before
    from caseloop.portal.actions import open_case

    with pytest.raises(NotFound):
        open_case(actor=world.ann, subject="Boiler", text="x", asset_id=world.oscar_asset.pk)
    assert Case.objects.count() == before


def test_a_reply_is_inbound_from_the_customer_and_reopens_a_solved_case(world, agent):
    from caseloop.cases.actions import change_status
    from caseloop.cases.choices import CaseStatus

    change_status(actor=agent, case=world.ann_case, status=CaseStatus.SOLVED)
    ann = signed_in(world.ann)
    answer = {"message": "It grinds again.", "form_token": "portal-reply-token-01"}
    response = ann.post(f"/portal/cases/{world.ann_case.pk}/reply/", answer)
    assert response.status_code == 302 and response["Location"].endswith("#latest")
    message = world.ann_case.messages.order_by("id").last()
    assert (message.direction, message.channel, message.author_contact.user_id, message.author_user_id) == (
        Direction.INBOUND, Channel.PORTAL, world.ann.pk, None)  # fmt: skip
    world.ann_case.refresh_from_db()
    assert world.ann_case.status == CaseStatus.OPEN
    page = ann.get(f"/portal/cases/{world.ann_case.pk}/").content.decode()
    assert "It grinds again." in page and "You" in page


def test_a_closed_case_takes_no_reply(world, agent):
    from caseloop.cases.actions import change_status
    from caseloop.cases.choices import CaseStatus

    for status in (CaseStatus.SOLVED, CaseStatus.CLOSED):
        change_status(actor=agent, case=world.ann_case, status=status)
    ann = signed_in(world.ann)
    page = ann.get(f"/portal/cases/{world.ann_case.pk}/").content.decode()
    assert "This request is closed" in page and 'action="/portal/cases/' not in page
    before = Message.objects.count()
    refused = ann.post(f"/portal/cases/{world.ann_case.pk}/reply/", {"message": "Hello?"})
    assert refused.status_code == 409 and Message.objects.count() == before


def test_the_portal_pages_read_a_fixed_number_of_queries(world, django_assert_num_queries):
    from caseloop.cases.actions import MessageInput, add_message

    ann = signed_in(world.ann)
    for n in range(10):  # more messages must not mean more queries
        add_message(actor=world.agent, case=world.ann_case, direction=Direction.OUTBOUND, channel=Channel.EMAIL,
                    body=MessageInput(body_text=f"Update {n}"))  # fmt: skip
    # each count includes the session and the user (2 queries); a case page also reads the promises made to her (2)
    pages = ((f"/portal/cases/{world.ann_case.pk}/", 12), ("/portal/", 6), ("/portal/places/", 5),
             (f"/portal/places/{world.site.pk}/", 11), (f"/portal/equipment/{world.door.pk}/", 10))  # fmt: skip
    for url, queries in pages:
        with django_assert_num_queries(queries):
            assert ann.get(url).status_code == 200


def test_answers_take_allowed_files_and_refuse_others(world, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    ann = signed_in(world.ann)
    url = f"/portal/cases/{world.ann_case.pk}/reply/"
    photo = SimpleUploadedFile("door.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, content_type="image/png")
    assert ann.post(url, {"message": "", "attachments": [photo]}).status_code == 302
    message = world.ann_case.messages.order_by("id").last()
    assert message is not None and message.body_text == ""
    assert list(message.message_attachments.values_list("filename", "attachment__content_type")) == [
        ("door.png", "image/png")]  # fmt: skip
    before = Message.objects.count()
    program = SimpleUploadedFile("photo.png", b"MZ\x90\x00", content_type="image/png")
    refused = ann.post(url, {"message": "See the photo", "attachments": [program]})
    assert refused.status_code == 415 and "photo.png does not look like a PNG file." in refused.content.decode()
    settings.CASELOOP_WEBFORM_MAX_FILES, settings.CASELOOP_WEBFORM_MAX_FILE_BYTES = 1, 1024
    huge = SimpleUploadedFile("scan.pdf", b"%PDF-" + b"0" * 300 * 1024, content_type="application/pdf")
    too_big = ann.post(url, {"message": "Big scan", "attachments": [huge]})
    assert too_big.status_code == 413 and Message.objects.count() == before
