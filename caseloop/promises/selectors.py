"""Reads of the promise ledger; permission is part of every query."""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from caseloop.cases.models import Case
from caseloop.core.errors import Invalid, NotFound
from caseloop.customers.choices import OrganizationKind
from caseloop.customers.models import Contact
from caseloop.customers.selectors import contact_ids_for_history, contact_of
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.identity.selectors import require_staff, team_ids_of
from caseloop.promises.choices import LIVE_STATES, PromiseKind, PromiseState
from caseloop.promises.kinds import CUSTOMER_WORDING, UNTOLD_SOURCES
from caseloop.promises.models import Notice, Promise


def promises_visible_to(actor: User) -> QuerySet[Promise]:
    """Staff see every promise. Outside the company only promises the customer was told of (`_told`): a
    customer those made to them, a partner those on the cases attributed to its organization. They read
    them as told (`as_told`), never the owner, the internal state or a release's reason."""
    qs: QuerySet[Promise] = Promise.objects.all()
    if actor.is_staff_member:
        return qs
    contact = contact_of(actor)
    if contact is None:
        return qs.none()
    if actor.role == Role.PARTNER:
        organization = contact.organization
        if organization is None or organization.kind != OrganizationKind.PARTNER:
            return qs.none()
        return qs.filter(_told(), case__partner_id=organization.pk)
    return qs.filter(_told(), contact_id__in=contact_ids_for_history(contact))


def access_promise(actor: User, promise_id: int) -> Promise:
    promise = (
        promises_visible_to(actor)
        .select_related("case", "contact", "owner_user", "owner_team", "owner_partner")
        .filter(pk=promise_id)
        .first()
    )
    if promise is None:
        raise NotFound("Promise", promise_id)
    return promise


def _with_people(qs: QuerySet[Promise]) -> QuerySet[Promise]:
    return qs.select_related("owner_user", "owner_team", "owner_partner", "contact")


def promises_of_case(actor: User, case: Case) -> list[Promise]:
    """A case's promises: the live ones first by due time, then the settled ones newest first."""
    rows = list(_with_people(promises_visible_to(actor).filter(case_id=case.pk)).order_by("-id")[:100])
    live = sorted((p for p in rows if p.is_live), key=lambda p: p.due_at)
    return live + [p for p in rows if not p.is_live]


@dataclass(frozen=True, slots=True)
class ToldPromise:
    """A promise as its customer sees it (the portal, the API outside the company): customer wording, no
    owner, no internal state.

    `standing` is open (at risk included: that is our worry, not theirs), kept, broken or released.
    """

    id: int
    case_id: int
    kind: str
    what: str
    description: str
    window_start: dt.datetime | None
    due_at: dt.datetime
    standing: str
    settled_at: dt.datetime | None


def promises_told_to(actor: User, case: Case) -> list[ToldPromise]:
    """The promises made to this customer on this case that they were told of: open ones first by due time,
    then the settled ones newest first. Only a customer sees them (a partner's portal shows none), and only
    their own (a colleague's, on a case their organization shares, stay theirs)."""
    if actor.role != Role.CUSTOMER:
        return []
    rows = promises_visible_to(actor).filter(case_id=case.pk).order_by("-id").only(*TOLD_FIELDS)[:50]
    told = [as_told(p) for p in rows]
    live = sorted((t for t in told if t.standing == PromiseState.OPEN), key=lambda t: t.due_at)
    return live + [t for t in told if t.standing != PromiseState.OPEN]


# what `as_told` reads of a promise
TOLD_FIELDS = ("case_id", "kind", "description", "window_start", "due_at", "state", "kept_at", "broken_at",
               "released_at")  # fmt: skip


def as_told(promise: Promise) -> ToldPromise:
    """A promise (one the customer was told of: `promises_visible_to` outside the company) in their words."""
    return ToldPromise(
        id=promise.pk,
        case_id=promise.case_id,
        kind=promise.kind,
        what=CUSTOMER_WORDING[promise.kind],
        description=promise.description,
        window_start=promise.window_start,
        due_at=promise.due_at,
        standing=PromiseState.OPEN if promise.is_live else promise.state,
        settled_at=promise.kept_at or promise.broken_at or promise.released_at,
    )


def standing_filter(standing: str) -> Q:
    """Promises whose standing, as a customer reads it, is this: `open` includes at risk (our worry, not theirs);
    `at_risk` is no standing of theirs and matches nothing, so filtering tells nothing of our internal state."""
    if standing == PromiseState.AT_RISK:
        return Q(pk__in=[])
    if standing == PromiseState.OPEN:
        return Q(state__in=list(LIVE_STATES))
    return Q(state=standing)


def _told() -> Q:
    """Promises the customer was told of: a kind with customer wording (`other` has none: its free text may be
    a note to the team), not made by a source the customer never hears of (UNTOLD_SOURCES)."""
    return Q(kind__in=list(CUSTOMER_WORDING)) & ~_untold()


def _untold() -> Q:
    return functools.reduce(operator.or_, (Q(source__startswith=prefix) for prefix in UNTOLD_SOURCES))


def live_promises_of_contact(actor: User, contact: Contact) -> list[Promise]:
    """What we still owe this customer, on any case, soonest first (beside the case the rep is on)."""
    ids = contact_ids_for_history(contact)
    qs = promises_visible_to(actor).filter(contact_id__in=ids, state__in=LIVE_STATES)
    return list(_with_people(qs).select_related("case").order_by("due_at")[:50])


def promises_owed_by(actor: User, *, states: Sequence[str] = LIVE_STATES) -> QuerySet[Promise]:
    """The actor's promises and their teams', soonest due first (the "my promises" list)."""
    require_staff(actor)
    mine = Q(owner_user_id=actor.pk) | Q(owner_user__isnull=True, owner_team_id__in=team_ids_of(actor))
    return _with_people(Promise.objects.filter(mine, state__in=list(states))).select_related("case").order_by("due_at")


def promise_made_by(source: str) -> Promise | None:
    """The promise an automatic source made ("approval:12"), live or settled, if it made one."""
    return Promise.objects.filter(source=source).first()


def unread_notices(actor: User) -> QuerySet[Notice]:
    return Notice.objects.filter(recipient=actor, read_at__isnull=True).order_by("-id")


def notices_of(actor: User) -> QuerySet[Notice]:
    return Notice.objects.filter(recipient=actor).order_by("-id")


class KeptBy:
    PERSON = "person"
    TEAM = "team"
    KIND = "kind"
    PARTNER = "partner"
    ALL = (PERSON, TEAM, KIND, PARTNER)


@dataclass(frozen=True, slots=True)
class KeptRate:
    key: str
    label: str
    kept: int
    broken: int

    @property
    def due(self) -> int:
        return self.kept + self.broken

    @property
    def rate(self) -> float | None:
        return self.kept / self.due if self.due else None


def kept_rates(actor: User, *, by: str, since: dt.datetime, until: dt.datetime) -> list[KeptRate]:
    """The promise-kept rate per person, team, kind or partner over promises due in [since, until).

    Released promises count neither way: nobody owed them any more. Rows come
    worst first (lowest rate, then most promises), so the page leads with what needs attention.
    """
    require_staff(actor)
    if by not in KeptBy.ALL:
        raise Invalid(f"by is one of {', '.join(KeptBy.ALL)}.", field="by")
    if since >= until:
        raise Invalid("since comes before until.", field="since")
    column, label_column = {
        KeptBy.PERSON: ("owner_user_id", "owner_user__username"),
        KeptBy.TEAM: ("owner_team_id", "owner_team__name"),
        KeptBy.KIND: ("kind", "kind"),
        KeptBy.PARTNER: ("owner_partner_id", "owner_partner__name"),
    }[by]
    rows = (
        Promise.objects.filter(due_at__gte=since, due_at__lt=until, state__in=[PromiseState.KEPT, PromiseState.BROKEN])
        .exclude(**{f"{column}__isnull": True})
        .values(column, label_column)
        .annotate(
            kept=Count("id", filter=Q(state=PromiseState.KEPT)), broken=Count("id", filter=Q(state=PromiseState.BROKEN))
        )
    )
    names: dict[int, str] = {}
    if by == KeptBy.PERSON:
        ids = [r[column] for r in rows]
        names = {u.pk: u.name for u in User.objects.filter(pk__in=ids)}
    result = []
    for r in rows:
        key = str(r[column])
        label = names.get(r[column], "") if by == KeptBy.PERSON else str(r[label_column])
        if by == KeptBy.KIND:
            label = PromiseKind(r[column]).label
        result.append(KeptRate(key=key, label=label, kept=r["kept"], broken=r["broken"]))
    return sorted(result, key=lambda k: (k.rate if k.rate is not None else 2.0, -k.due, k.label))


def promise_counts_by_case(case_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(promises settled as kept or broken, of which kept) per case, for the insights facts; cases with none are absent.

    A promise still live is not counted yet, nor a released one.
    """
    rows = (
        Promise.objects.filter(case_id__in=list(case_ids), state__in=[PromiseState.KEPT, PromiseState.BROKEN])
        .values("case_id")
        .annotate(due=Count("id"), kept=Count("id", filter=Q(state=PromiseState.KEPT)))
    )
    return {r["case_id"]: (r["due"], r["kept"]) for r in rows}
