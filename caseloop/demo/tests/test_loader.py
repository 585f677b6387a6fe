from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Count, Min

from caseloop.cases.choices import CaseStatus, Direction
from caseloop.cases.models import Case, Message
from caseloop.cases.search import search
from caseloop.core.errors import DomainError
from caseloop.customers.choices import IdentityKind, SiteRole
from caseloop.customers.identities import normalise_identity
from caseloop.customers.models import Contact, ContactIdentity, Site, SiteRelation
from caseloop.demo.loader import DemoErrorCode, load_demo
from caseloop.demo.people import DEMO_PASSWORD
from caseloop.demo.vocabulary import CUSTOMER_EMAIL, CUSTOMER_USERNAME
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.testing.factories import make_case
from caseloop.timeline.models import AuditEntry, TimelineEvent

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def _load(cases: int, **kw):
    return load_demo(cases=cases, progress=False, parallel=False, now=NOW, **kw)


def test_small_load_is_complete_and_consistent():
    report = _load(160)

    assert Case.objects.count() == 160 == report.counts["cases"]
    ids = list(Case.objects.order_by("id").values_list("id", flat=True))
    assert ids[0] > 10000 and ids == list(range(ids[0], ids[0] + 160))  # numbered on from CL-10001
    # every case has its opening message from the requester, and message_count is right
    firsts = Message.objects.values("case_id").annotate(first=Min("id"), n=Count("id"))
    assert len(firsts) == 160
    counts = dict(Case.objects.values_list("id", "message_count"))
    assert all(counts[row["case_id"]] == row["n"] for row in firsts)
    opening = Message.objects.filter(id__in=[row["first"] for row in firsts]).select_related("case")
    assert all(m.direction == Direction.INBOUND and m.author_contact_id == m.case.requester_id for m in opening)
    # each case's history starts with case.opened on its own timeline and its requester's
    opened = TimelineEvent.objects.filter(kind="case.opened")
    assert set(opened.filter(subject_kind="case").values_list("subject_id", flat=True)) == set(ids)
    assert opened.filter(subject_kind="contact").count() == 160
    assert AuditEntry.objects.filter(action="case.create").count() == 160
    # lifecycle times agree with the status
    for case in Case.objects.all():
        assert (case.closed_at is not None) == (case.status == CaseStatus.CLOSED)
        assert (case.solved_at is not None) == (case.status in (CaseStatus.SOLVED, CaseStatus.CLOSED))
        assert case.created_at <= case.updated_at <= NOW
        assert case.created_at >= NOW - dt.timedelta(days=366)
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {CaseStatus.CLOSED, CaseStatus.SOLVED} <= statuses and statuses & {CaseStatus.OPEN, CaseStatus.PENDING}


def test_identities_are_normalised_and_unique_per_contact():
    _load(80)
    identities = list(ContactIdentity.objects.values_list("kind", "value"))
    assert identities and all(normalise_identity(kind, value) == value for kind, value in identities)
    phones = [value for kind, value in identities if kind == IdentityKind.PHONE]
    assert phones and all(re.fullmatch(r"\+1[2-9]\d{9}", p) for p in phones)
    assert not ContactIdentity.objects.exclude(contact__in=Contact.objects.all()).exists()


def test_search_finds_a_word_of_a_generated_subject():
    _load(60)
    case = Case.objects.order_by("-id")[0]
    word = max(re.findall(r"[A-Za-z]{4,}", case.subject), key=len)

    hits = search(word, visible_cases=None, include_notes=True, limit=200)

    assert case.pk in {hit.case_id for hit in hits}


def test_sold_home_keeps_its_assets_and_history_for_the_new_owner():
    _load(400)
    ended = SiteRelation.objects.filter(role=SiteRole.OWNER, valid_to__isnull=False)
    assert ended.exists()
    for relation in ended:
        assert relation.valid_to is not None
        successor = SiteRelation.objects.get(site=relation.site, role=SiteRole.OWNER, valid_from=relation.valid_to)
        assert successor.contact_id != relation.contact_id and successor.valid_to is None
        started = TimelineEvent.objects.get(
            kind="site.relation_started", subject_kind="site", subject_id=relation.site_id,
            data__contact=successor.contact_id,
        )  # fmt: skip
        assert started.data["ended"] == [relation.contact_id]
    sold = ended.values_list("site_id", flat=True)
    assert Site.objects.filter(pk__in=sold, assets__isnull=False).exists()


def test_demo_people_can_sign_in_and_the_portal_customer_has_cases():
    _load(120)
    for username in ("admin", "alice", "maria", "tom"):
        assert authenticate(username=username, password=DEMO_PASSWORD) is not None
    assert User.objects.get(username="admin").role == Role.ADMIN
    carla = User.objects.get(username=CUSTOMER_USERNAME)
    contact = Contact.objects.get(user=carla)
    assert carla.role == Role.CUSTOMER
    assert contact.identities.filter(kind=IdentityKind.EMAIL, value=CUSTOMER_EMAIL).exists()
    assert contact.site_relations.filter(role=SiteRole.OWNER).exists()
    assert Case.objects.filter(requester=contact).exists()


def test_refuses_a_database_that_has_cases_and_changes_nothing():
    make_case()
    before = (Case.objects.count(), Contact.objects.count(), TimelineEvent.objects.count(), User.objects.count())

    with pytest.raises(DomainError) as excinfo:
        _load(10)

    assert excinfo.value.code == DemoErrorCode.HAS_CASES
    assert (Case.objects.count(), Contact.objects.count(), TimelineEvent.objects.count(),
            User.objects.count()) == before  # fmt: skip


def test_append_adds_to_what_is_there():
    _load(30)
    staff = User.objects.count()

    _load(25, append=True, seed=2)

    assert Case.objects.count() == 55
    assert User.objects.count() == staff  # the demo people are reused, not duplicated
    assert Contact.objects.filter(user__username=CUSTOMER_USERNAME).count() == 1


@pytest.mark.parametrize("cases", [0, 1_000_001])
def test_refuses_sizes_out_of_range(cases):
    with pytest.raises(DomainError) as excinfo:
        _load(cases)
    assert excinfo.value.code == DemoErrorCode.BAD_SIZE
    assert not User.objects.exists()


def test_same_seed_gives_the_same_cases():
    def subjects(seed):
        with transaction.atomic():
            _load(40, seed=seed)
            rows = list(Case.objects.order_by("id").values_list("subject", "requester__name", "status"))
            transaction.set_rollback(True)
        # order numbers come from ids, which PostgreSQL's sequences do not roll back
        return [(re.sub(r"SO-\d+", "SO-#", subject), name, status) for subject, name, status in rows]

    first = subjects(5)
    assert subjects(5) == first
    assert subjects(6) != first


def test_loading_with_progress_bars_leaves_no_thread_behind() -> None:
    # the quickstart loads the demo, then forks the server's workers: no helper thread may still run in it
    import threading

    before = {t.ident for t in threading.enumerate()}
    load_demo(cases=5, progress=True, parallel=False)
    assert [t.name for t in threading.enumerate() if t.ident not in before] == []
