from __future__ import annotations

import pytest

from caseloop.cases.actions import MessageInput, add_message, create_case, update_case
from caseloop.cases.choices import Direction
from caseloop.cases.errors import CaseErrorCode
from caseloop.cases.models import Case, CustomFieldDefinition
from caseloop.cases.search import search
from caseloop.cases.selectors import access_case, cases_visible_to, messages_visible_to, parse_case_number
from caseloop.core.errors import DomainError, NotFound, PermissionDenied
from caseloop.customers.actions import create_organization
from caseloop.customers.choices import OrganizationKind
from caseloop.identity.actions import create_user
from caseloop.identity.choices import Role
from caseloop.testing.factories import make_case, make_contact

pytestmark = pytest.mark.django_db


def test_search_ranks_subject_and_body_hits_with_escaped_highlights(agent):
    case = make_case(subject="Garage door spring snapped", body="The <b>spring</b> broke at 7am")
    make_case(subject="Invoice question", body="Why was I charged twice?")
    hits = search("spring", visible_cases=None, include_notes=True)
    assert {(h.case_id, h.message_id is None) for h in hits} == {(case.pk, True), (case.pk, False)}
    body_hit = next(h for h in hits if h.message_id is not None)
    # markup in the text never survives as markup (PostgreSQL's headline drops tags, FTS5 escapes them)
    assert "<mark>spring</mark>" in body_hit.snippet_html
    assert "<b>" not in body_hit.snippet_html
    assert body_hit.snippet_html.endswith("broke at 7am")
    assert hits[0].message_id is None  # a subject match outranks a body match


def test_one_word_ranks_subjects_then_the_newest_messages_several_words_rank_by_relevance(agent, django_db_setup):
    from django.db import connection

    older = make_case(subject="Noise at night", body="The spring creaks and the spring rattles, spring spring")
    newer = make_case(subject="Billing", body="A spring question")
    titled = make_case(subject="Spring replacement", body="Please call")
    hits = [(h.case_id, h.message_id is None) for h in search("spring", visible_cases=None, include_notes=True)]
    assert hits[0] == (titled.pk, True)  # a subject first
    if connection.vendor == "sqlite":  # one word: no bm25 (its IDF walk costs ~60 ms at a million messages)
        assert hits[1:] == [(newer.pk, False), (older.pk, False)]
    else:  # ts_rank costs nothing extra: the body that says it most comes first
        assert hits[1:] == [(older.pk, False), (newer.pk, False)]
    several = search("spring creaks", visible_cases=None, include_notes=True)
    assert [h.case_id for h in several] == [older.pk]
    if connection.vendor == "sqlite":  # bm25 decides between bodies that hold every word
        make_case(subject="Door", body="spring creaks")
        ranked = search("spring rattles", visible_cases=None, include_notes=True)
        assert [h.case_id for h in ranked] == [older.pk]


def test_search_stems_and_finds_words_added_later(agent):
    case = make_case(subject="Furnace", body="no heat")
    add_message(
        actor=agent, case=case, direction=Direction.OUTBOUND, body=MessageInput(body_text="Replaced the igniters")
    )
    assert [h.case_id for h in search("igniter", visible_cases=None, include_notes=True)] == [case.pk]
    update_case(actor=agent, case=case, subject="Thermostat wiring")
    assert [h.case_id for h in search("thermostat", visible_cases=None, include_notes=True)] == [case.pk]
    assert search("furnace", visible_cases=None, include_notes=True) == []


@pytest.mark.parametrize("query", ["", "   ", "!!!", "x" * 201])
def test_bad_search_query_is_a_400(query):
    with pytest.raises(DomainError) as excinfo:
        search(query, visible_cases=None, include_notes=True)
    assert excinfo.value.code == CaseErrorCode.BAD_QUERY and excinfo.value.status == 400


def test_search_operators_in_input_are_plain_words(agent):
    make_case(subject="NEAR the AND door OR gate", body='quote " and * star')
    assert search('"AND" NEAR(', visible_cases=None, include_notes=True)  # no syntax error, finds words


def test_customer_sees_only_own_cases_and_no_notes(agent, customer, other_customer):
    mine = make_case(requester=customer.contact, subject="My heater leaks")
    theirs = make_case(requester=other_customer.contact, subject="Their heater leaks")
    add_message(
        actor=agent, case=mine, direction=Direction.NOTE, body=MessageInput(body_text="heater is ancient, upsell")
    )
    assert list(cases_visible_to(customer)) == [mine]
    with pytest.raises(NotFound):
        access_case(customer, theirs.pk)
    assert [m.direction for m in messages_visible_to(customer, mine)] == [Direction.INBOUND]
    hits = search("heater", visible_cases=cases_visible_to(customer), include_notes=False)
    assert {h.case_id for h in hits} == {mine.pk}
    assert all(h.message_id is None or h.message_id != mine.messages.get(direction=Direction.NOTE).pk for h in hits)


def test_organization_sharing_lets_colleagues_see_cases(agent, customer):
    org = create_organization(actor=agent, name="Acme", shares_cases=True)
    colleague = make_contact(name="Colleague", organization=org)
    customer.contact.organization = org
    customer.contact.save()
    shared = make_case(requester=colleague)
    assert list(cases_visible_to(customer)) == [shared]


def test_partner_sees_only_attributed_cases(agent):
    installer = create_organization(actor=agent, name="Quick Installs", kind=OrganizationKind.PARTNER)
    partner_user = create_user(username="installer", role=Role.PARTNER)
    contact = make_contact(name="Pat Partner", organization=installer)
    contact.user = partner_user
    contact.save()
    attributed = make_case(partner=installer)
    make_case()
    assert list(cases_visible_to(partner_user)) == [attributed]


def test_customer_cannot_open_case_for_someone_else_or_set_internal_fields(customer, other_customer):
    with pytest.raises(PermissionDenied):
        create_case(actor=customer, requester=other_customer.contact, subject="x", body=MessageInput(body_text="y"))
    with pytest.raises(PermissionDenied):
        create_case(
            actor=customer, requester=customer.contact, subject="x", body=MessageInput(body_text="y"), tags=["vip"]
        )
    assert Case.objects.count() == 0
    own = create_case(actor=customer, requester=customer.contact, subject="x", body=MessageInput(body_text="y"))
    with pytest.raises(DomainError) as excinfo:
        add_message(actor=customer, case=own.case, direction=Direction.NOTE, body=MessageInput(body_text="z"))
    assert excinfo.value.code == CaseErrorCode.NOTE_NOT_ALLOWED


def test_custom_fields_are_typed_and_required(agent):
    CustomFieldDefinition.objects.create(key="door_model", label="Door model", field_type="choice",
                                         choices=["8000", "9100"], required=True)  # fmt: skip
    CustomFieldDefinition.objects.create(key="visits", label="Visits", field_type="number")
    contact = make_contact()
    with pytest.raises(DomainError) as excinfo:
        create_case(actor=agent, requester=contact, subject="x", body=None)
    assert excinfo.value.code == CaseErrorCode.MISSING_REQUIRED_FIELD
    with pytest.raises(DomainError) as excinfo:
        create_case(actor=agent, requester=contact, subject="x", body=None, custom_fields={"door_model": "1"})
    assert excinfo.value.code == CaseErrorCode.BAD_CUSTOM_FIELD
    with pytest.raises(DomainError) as excinfo:
        create_case(
            actor=agent, requester=contact, subject="x", body=None, custom_fields={"door_model": "8000", "nope": 1}
        )
    assert excinfo.value.code == CaseErrorCode.UNKNOWN_CUSTOM_FIELD
    assert Case.objects.count() == 0
    case = create_case(
        actor=agent, requester=contact, subject="x", body=None, custom_fields={"door_model": "8000"}
    ).case
    with pytest.raises(DomainError) as excinfo:
        update_case(actor=agent, case=case, custom_fields={"visits": "three"})
    assert excinfo.value.code == CaseErrorCode.BAD_CUSTOM_FIELD
    update_case(actor=agent, case=case, custom_fields={"visits": 3})
    assert Case.objects.get(pk=case.pk).custom_fields == {"door_model": "8000", "visits": 3}


def test_case_number_parsing():
    assert parse_case_number("CL-10234") == 10234
    assert parse_case_number(" cl-7 ") == 7
    assert parse_case_number("10234") == 10234
    assert parse_case_number("CL-x") is None
    assert parse_case_number("CL-\u0661\u0660\u0662\u0663\u0664") is None  # Arabic-Indic digits: int() reads them
