from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

import pytest

from caseloop.core.errors import DomainError
from caseloop.timeline.actions import record_audit, record_event
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.errors import TimelineErrorCode
from caseloop.timeline.models import AuditEntry, TimelineEvent
from caseloop.timeline.selectors import OUTSIDE_SAFE_KINDS, outside_kinds, parse_subject, timeline_page

pytestmark = pytest.mark.django_db


def test_one_happening_fans_out_to_each_subject_once():
    when = dt.datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
    record_event(kind="case.opened", summary="x", occurred_at=when,
                 data={"amount": Decimal("12.50"), "on": dt.date(2026, 5, 6), "nested": {"list": [1, None]}},
                 subjects=[(SubjectKind.CASE, 1), (SubjectKind.CONTACT, 2), (SubjectKind.CONTACT, 2),
                           (SubjectKind.SITE, None)])  # fmt: skip
    rows = list(TimelineEvent.objects.order_by("id"))
    assert [(r.subject_kind, r.subject_id) for r in rows] == [("case", 1), ("contact", 2)]
    assert len({r.event_id for r in rows}) == 1
    # prepared once, written as the ORM writes them: decimals and dates as strings, the exact instant
    assert {(r.occurred_at, r.kind, r.summary) for r in rows} == {(when, "case.opened", "x")}
    assert rows[0].data == {"amount": "12.50", "on": "2026-05-06", "nested": {"list": [1, None]}}


def test_timeline_is_newest_first_and_keyset_paged():
    for n in range(5):
        record_event(kind="note", summary=f"n{n}", subjects=[(SubjectKind.CASE, 7)])
    record_event(kind="note", summary="elsewhere", subjects=[(SubjectKind.CASE, 8)])
    first = timeline_page(subject_kind=SubjectKind.CASE, subject_ids=[7], limit=2)
    assert [e.summary for e in first] == ["n4", "n3"]
    second = timeline_page(subject_kind=SubjectKind.CASE, subject_ids=[7], before_id=first[-1].pk, limit=10)
    assert [e.summary for e in second] == ["n2", "n1", "n0"]


def test_events_and_audit_cannot_be_changed_or_deleted():
    record_event(kind="x", summary="s", subjects=[(SubjectKind.CASE, 1)])
    event = TimelineEvent.objects.get(subject_kind="case", subject_id=1)
    record_audit(action="case.update", object_type="case", object_id=1, actor=None,
                 before={"status": "new"}, after={"status": "open"})  # fmt: skip
    audit = AuditEntry.objects.get(object_type="case", object_id=1)
    assert (audit.action, audit.before, audit.after) == ("case.update", {"status": "new"}, {"status": "open"})
    event.summary = "tampered"
    for row in (event, audit):
        with pytest.raises(DomainError) as excinfo:
            row.save()
        assert excinfo.value.code == TimelineErrorCode.APPEND_ONLY
        with pytest.raises(DomainError):
            row.delete()
    assert TimelineEvent.objects.get(pk=event.pk).summary == "s"
    assert AuditEntry.objects.filter(pk=audit.pk).exists()


@pytest.mark.parametrize("raw", ["contact", "contact:", "contact:abc", "user:1", ":1", "case:-1"])
def test_bad_subject_is_a_400(raw):
    with pytest.raises(DomainError) as excinfo:
        parse_subject(raw)
    assert excinfo.value.code == TimelineErrorCode.BAD_SUBJECT
    assert excinfo.value.status == 400


def test_good_subject_parses():
    assert parse_subject("asset:42") == (SubjectKind.ASSET, 42)


def test_an_empty_allow_list_keeps_nothing_and_none_keeps_everything():
    record_event(kind="case.opened", summary="o", subjects=[(SubjectKind.CASE, 9)])
    record_event(kind="note.added", summary="n", subjects=[(SubjectKind.CASE, 9)])
    read = functools.partial(timeline_page, subject_kind=SubjectKind.CASE, subject_ids=[9])
    assert [e.kind for e in read(only_kinds=None)] == ["note.added", "case.opened"]
    assert [e.kind for e in read(only_kinds=["case.opened"])] == ["case.opened"]
    assert read(only_kinds=[]) == []


def test_outsiders_read_the_conversation_only_on_a_case_or_a_contact():
    conversation = {"message.received", "message.sent"}
    for kind in (SubjectKind.CASE, SubjectKind.CONTACT):
        assert outside_kinds(kind) == OUTSIDE_SAFE_KINDS | conversation
    for kind in (SubjectKind.SITE, SubjectKind.ASSET, SubjectKind.ORGANIZATION):
        assert outside_kinds(kind) == OUTSIDE_SAFE_KINDS
    internal = {"note.added", "case.assigned", "case.updated", "promise.made", "policy.overridden",
                "approval.requested", "site.relation_started", "contact.created"}  # fmt: skip
    assert not internal & (OUTSIDE_SAFE_KINDS | conversation)
