from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from caseloop.cases.models import Case
from caseloop.core.errors import DomainError, PermissionDenied
from caseloop.customers.actions import (
    IdentityInput,
    OrderLineInput,
    add_identity,
    create_asset,
    create_contact,
    create_order,
    create_site,
    merge_contacts,
    relate_contact_to_site,
    update_asset,
)
from caseloop.customers.choices import IdentityKind, SiteRole
from caseloop.customers.errors import CustomerErrorCode
from caseloop.customers.models import Contact, ContactIdentity, Order, SiteRelation
from caseloop.customers.selectors import (
    assets_visible_to,
    contact_ids_for_history,
    find_contact_by_identity,
    surviving_contact,
)
from caseloop.testing.factories import make_case, make_contact
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.models import AuditEntry, TimelineEvent
from caseloop.timeline.selectors import timeline_page

pytestmark = pytest.mark.django_db
WHEN = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def test_identities_are_normalised_and_unique(agent):
    contact = create_contact(
        actor=agent,
        name="Ann Smith",
        identities=[
            IdentityInput(IdentityKind.EMAIL, " Ann@Example.COM "),
            IdentityInput(IdentityKind.PHONE, "(202) 555-0143"),
        ],
    )
    assert sorted(contact.identities.values_list("kind", "value")) == [
        ("email", "ann@example.com"),
        ("phone", "+12025550143"),
    ]
    other = make_contact(name="Somebody")
    with pytest.raises(DomainError) as excinfo:
        add_identity(actor=agent, contact=other, identity=IdentityInput(IdentityKind.EMAIL, "ANN@example.com"))
    assert excinfo.value.code == CustomerErrorCode.IDENTITY_TAKEN
    assert not ContactIdentity.objects.filter(contact=other, value="ann@example.com").exists()


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (IdentityKind.EMAIL, "not-an-email"),
        (IdentityKind.PHONE, "12"),
        (IdentityKind.PHONE, "call me"),
        (IdentityKind.CHAT, "a b"),
    ],
)
def test_invalid_identity_refused_and_contact_not_created(agent, kind, value):
    with pytest.raises(DomainError) as excinfo:
        create_contact(actor=agent, name="X", identities=[IdentityInput(kind, value)])
    assert excinfo.value.code == CustomerErrorCode.IDENTITY_INVALID
    assert Contact.objects.count() == 0


def test_customer_cannot_create_contacts(customer):
    before = Contact.objects.count()
    with pytest.raises(PermissionDenied):
        create_contact(actor=customer, name="Sneaky")
    assert Contact.objects.count() == before


def test_merge_moves_everything_and_leaves_a_redirect(agent):
    source = make_contact(name="Ann S.", email="ann@old.test")
    target = make_contact(name="Ann Smith", email="ann@new.test")
    case = make_case(requester=source)
    order = create_order(actor=agent, reference="O-1", contact=source, ordered_at=WHEN, currency="USD",
                         lines=[OrderLineInput("Spring", Decimal("49.50"), quantity=2)])  # fmt: skip
    site = create_site(actor=agent, address_line1="1 Elm St", city="Springfield")
    relate_contact_to_site(actor=agent, site=site, contact=source, role=SiteRole.OWNER, valid_from=dt.date(2020, 1, 1))

    merge_contacts(actor=agent, source=source, target=target)

    source.refresh_from_db()
    assert source.merged_into_id == target.pk
    assert Case.objects.get(pk=case.pk).requester_id == target.pk
    assert Order.objects.get(pk=order.pk).contact_id == target.pk
    assert SiteRelation.objects.get(site=site).contact_id == target.pk
    assert sorted(target.identities.values_list("value", flat=True)) == ["ann@new.test", "ann@old.test"]
    assert surviving_contact(source) == target
    assert find_contact_by_identity(IdentityKind.EMAIL, "ann@old.test") == target
    # the source's history is read with the target's, nothing lost
    ids = contact_ids_for_history(target)
    assert set(ids) == {source.pk, target.pk}
    kinds = [e.kind for e in timeline_page(subject_kind=SubjectKind.CONTACT, subject_ids=ids, limit=50)]
    assert "case.opened" in kinds and "contact.merged" in kinds and "order.placed" in kinds
    assert AuditEntry.objects.filter(action="contact.merge", object_id=target.pk).count() == 1


def test_merge_refuses_self_and_already_merged(agent):
    a, b, c = make_contact(), make_contact(), make_contact()
    with pytest.raises(DomainError) as excinfo:
        merge_contacts(actor=agent, source=a, target=a)
    assert excinfo.value.code == CustomerErrorCode.MERGE_SAME_CONTACT
    merge_contacts(actor=agent, source=a, target=b)
    with pytest.raises(DomainError) as excinfo:
        merge_contacts(actor=agent, source=c, target=a)
    assert excinfo.value.code == CustomerErrorCode.CONTACT_MERGED
    assert Contact.objects.get(pk=c.pk).merged_into_id is None


def test_new_owner_ends_previous_owner_and_asset_history_stays_with_the_site(agent):
    site = create_site(actor=agent, address_line1="12 Oak Lane", city="Portland", latitude=Decimal("45.5"),
                       longitude=Decimal("-122.6"))  # fmt: skip
    door = create_asset(actor=agent, name="Garage door", site=site, serial_number="GD-1",
                        attributes={"spring_size": "0.243 x 32in"})  # fmt: skip
    old_owner, new_owner = make_contact(name="Old Owner"), make_contact(name="New Owner")
    relate_contact_to_site(
        actor=agent, site=site, contact=old_owner, role=SiteRole.OWNER, valid_from=dt.date(2015, 5, 1)
    )
    earlier = make_case(requester=old_owner, subject="Spring snapped", asset=door, site=site)

    relate_contact_to_site(
        actor=agent, site=site, contact=new_owner, role=SiteRole.OWNER, valid_from=dt.date(2026, 2, 1)
    )

    old_relation = SiteRelation.objects.get(contact=old_owner)
    assert old_relation.valid_to == dt.date(2026, 2, 1)
    assert SiteRelation.objects.get(contact=new_owner).valid_to is None
    asset_history = timeline_page(subject_kind=SubjectKind.ASSET, subject_ids=[door.pk], limit=50)
    assert [e.case_id for e in asset_history if e.kind == "case.opened"] == [earlier.pk]


def test_new_owner_start_before_current_owner_start_is_refused(agent):
    site = create_site(actor=agent, address_line1="1 A St", city="B")
    relate_contact_to_site(
        actor=agent, site=site, contact=make_contact(), role=SiteRole.OWNER, valid_from=dt.date(2024, 1, 1)
    )
    with pytest.raises(DomainError) as excinfo:
        relate_contact_to_site(actor=agent, site=site, contact=make_contact(), role=SiteRole.OWNER,
                               valid_from=dt.date(2023, 1, 1))  # fmt: skip
    assert excinfo.value.code == CustomerErrorCode.BAD_DATE_RANGE
    assert SiteRelation.objects.filter(site=site).count() == 1


def test_coordinates_and_attributes_validated(agent):
    with pytest.raises(DomainError) as excinfo:
        create_site(actor=agent, address_line1="x", city="y", latitude=Decimal("95"), longitude=Decimal("0"))
    assert excinfo.value.code == CustomerErrorCode.BAD_COORDINATES
    with pytest.raises(DomainError) as excinfo:
        create_asset(actor=agent, name="Furnace", attributes={"filter": {"nested": 1}})
    assert excinfo.value.code == CustomerErrorCode.BAD_ATTRIBUTES


def test_asset_move_is_on_both_sites_timelines(agent):
    a = create_site(actor=agent, address_line1="1 A St", city="X")
    b = create_site(actor=agent, address_line1="2 B St", city="X")
    heater = create_asset(actor=agent, name="Water heater", site=a)
    update_asset(actor=agent, asset=heater, changes={"site": b})
    assert TimelineEvent.objects.filter(kind="asset.moved", subject_kind="site", subject_id=a.pk).exists()
    assert TimelineEvent.objects.filter(kind="asset.moved", subject_kind="site", subject_id=b.pk).exists()


def test_order_totals_exact_and_bad_amounts_refused(agent):
    contact = make_contact()
    order = create_order(actor=agent, reference="A-1", contact=contact, ordered_at=WHEN, currency="eur",
                         lines=[OrderLineInput("Filter", Decimal("0.10"), quantity=3)])  # fmt: skip
    assert order.total == Decimal("0.30") and order.currency == "EUR"
    for kwargs in (
        {"lines": [OrderLineInput(description="x", unit_price=Decimal("-1"))]},
        {"lines": [OrderLineInput(description="x", unit_price=Decimal("1"))], "total": Decimal("2")},
        {"total": Decimal("-5")},
    ):
        with pytest.raises(DomainError) as excinfo:
            create_order(actor=agent, reference="A-2", contact=contact, ordered_at=WHEN, currency="EUR", **kwargs)
        assert excinfo.value.code == CustomerErrorCode.BAD_AMOUNT
    with pytest.raises(DomainError) as excinfo:
        create_order(actor=agent, reference="A-1", contact=contact, ordered_at=WHEN, currency="EUR")
    assert excinfo.value.code == CustomerErrorCode.ORDER_REF_TAKEN
    assert Order.objects.count() == 1


def test_customer_sees_only_assets_of_their_current_sites(agent, customer, other_customer):
    mine = create_site(actor=agent, address_line1="1 Mine", city="X")
    theirs = create_site(actor=agent, address_line1="2 Theirs", city="X")
    relate_contact_to_site(
        actor=agent, site=mine, contact=customer.contact, role=SiteRole.OWNER, valid_from=dt.date(2020, 1, 1)
    )
    relate_contact_to_site(actor=agent, site=theirs, contact=other_customer.contact, role=SiteRole.OWNER,
                           valid_from=dt.date(2020, 1, 1))  # fmt: skip
    my_asset = create_asset(actor=agent, name="Door", site=mine)
    create_asset(actor=agent, name="Door", site=theirs)
    assert list(assets_visible_to(customer)) == [my_asset]


def test_find_contacts_by_exact_identity_then_name_word_prefix(agent, customer):
    from caseloop.customers.selectors import find_contacts

    ann = make_contact(name="Ann Smith", email="ann@example.com")
    annie = make_contact(name="annie Jones")
    joanne = make_contact(name="Joanne Ann")  # "ann" as a later word matches; inside "Joanne" it does not
    hannah = make_contact(name="Hannah Smithers-Lee")
    add_identity(actor=agent, contact=annie, identity=IdentityInput(IdentityKind.PHONE, "+1 415 555 0100"))
    assert find_contacts(agent, "ANN@example.com") == [ann]
    assert find_contacts(agent, "ann") == [ann, annie, joanne]
    assert find_contacts(agent, "smith") == [ann, hannah]
    assert find_contacts(agent, "lee") == [hannah]
    assert find_contacts(agent, "smi an") == [ann]
    assert find_contacts(agent, "Sm'ith!!") == []  # punctuation splits words; nothing starts with "ith"
    assert find_contacts(agent, 'jo"nes') == []
    assert find_contacts(agent, "(415) 555-0100") == [annie]
    assert find_contacts(agent, "  ") == []
    # a customer finds only themselves
    assert find_contacts(customer, "ann") == []
    assert find_contacts(customer, "carla") == [customer.contact]


def test_find_assets_by_serial_exact_or_prefix(agent):
    from caseloop.customers.selectors import find_assets

    door = create_asset(actor=agent, name="Door", serial_number="GD-1001")
    opener = create_asset(actor=agent, name="Opener", serial_number="GD-1002")
    create_asset(actor=agent, name="Heater", serial_number="HX-1001")
    assert find_assets(agent, "gd-100") == [door, opener]
    assert find_assets(agent, "GD-1002") == [opener]
    assert find_assets(agent, "1001") == []  # no substring scans


def test_find_or_create_contact_finds_normalised_or_creates_once(agent):
    from caseloop.customers.actions import find_or_create_contact

    ann = make_contact(name="Ann", email="ann@example.com")
    assert find_or_create_contact(actor=agent, kind=IdentityKind.EMAIL, value=" ANN@example.com ") == ann
    new = find_or_create_contact(actor=agent, kind=IdentityKind.PHONE, value="(415) 555-0199", name="Ben")
    assert (new.name, [i.value for i in new.identities.all()]) == ("Ben", ["+14155550199"])
    again = find_or_create_contact(actor=agent, kind=IdentityKind.PHONE, value="+1 415 555 0199")
    assert again == new and Contact.objects.count() == 2
    unnamed = find_or_create_contact(actor=None, kind=IdentityKind.EMAIL, value="x@example.com")
    assert unnamed.name == "x@example.com"


def test_find_or_create_contact_finds_the_survivor_of_a_merge(agent):
    from caseloop.customers.actions import find_or_create_contact

    old = make_contact(email="old@example.com")
    keeper = make_contact(email="keeper@example.com")
    merge_contacts(actor=agent, source=old, target=keeper)
    assert find_or_create_contact(actor=agent, kind=IdentityKind.EMAIL, value="old@example.com") == keeper


def test_a_customer_may_only_name_themselves(customer, other_customer):
    from caseloop.customers.actions import find_or_create_contact

    assert find_or_create_contact(actor=customer, kind=IdentityKind.EMAIL, value="carla@example.com") == (
        customer.contact)  # fmt: skip
    for address in ("oscar@example.com", "nobody@example.com"):
        with pytest.raises(PermissionDenied):
            find_or_create_contact(actor=customer, kind=IdentityKind.EMAIL, value=address)
    assert Contact.objects.count() == 2


def test_update_order_changes_status_only_by_staff(agent, customer):
    from caseloop.customers.actions import update_order
    from caseloop.timeline.models import AuditEntry

    order = create_order(actor=agent, reference="R-1", contact=make_contact(), currency="USD",
                         ordered_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
                         lines=[OrderLineInput(description="Spring", unit_price=Decimal("40.00"))])  # fmt: skip
    with pytest.raises(PermissionDenied):
        update_order(actor=customer, order=order, changes={"status": "refunded"})
    assert Order.objects.get(pk=order.pk).status == "placed"
    with pytest.raises(DomainError) as excinfo:
        update_order(actor=agent, order=order, changes={"total": Decimal("1.00")})
    assert excinfo.value.field == "total"
    update_order(actor=agent, order=order, changes={"status": "fulfilled"})
    assert Order.objects.get(pk=order.pk).status == "fulfilled"
    audit = AuditEntry.objects.get(action="order.update")
    assert (audit.before, audit.after) == ({"status": "placed"}, {"status": "fulfilled"})
