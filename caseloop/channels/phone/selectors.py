"""Reads of the phone channel (with permission in them): IVR flows for administrators, a case's calls and texts."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from caseloop.cases.models import Case
from caseloop.channels.phone import ivr as ivr_rules
from caseloop.channels.phone.choices import IvrState, WebhookState
from caseloop.channels.phone.models import Call, IvrFlow, IvrVersion, PhoneLine, WebhookDelivery
from caseloop.channels.sms.models import SmsMessage
from caseloop.core.errors import NotFound
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.identity.selectors import require_role


@dataclass(frozen=True, slots=True)
class FlowRow:
    flow: IvrFlow
    published: IvrVersion | None
    draft: IvrVersion | None


@dataclass(frozen=True, slots=True)
class Overview:
    flows: list[IvrFlow]
    rows: list[FlowRow]
    lines: list[PhoneLine]


def flows_and_lines(actor: User) -> Overview:
    require_role(actor, Role.ADMIN)
    flows = list(IvrFlow.objects.order_by("name"))
    current = {}
    for version in IvrVersion.objects.filter(state__in=[IvrState.PUBLISHED, IvrState.DRAFT]).only(
        "id", "flow_id", "number", "state", "published_at", "updated_at"
    ):
        current[(version.flow_id, version.state)] = version
    rows = [FlowRow(f, current.get((f.pk, IvrState.PUBLISHED)), current.get((f.pk, IvrState.DRAFT))) for f in flows]
    lines = list(PhoneLine.objects.select_related("flow", "team").order_by("name"))
    return Overview(flows=flows, rows=rows, lines=lines)


def access_flow(actor: User, flow_id: int) -> IvrFlow:
    require_role(actor, Role.ADMIN)
    flow = IvrFlow.objects.filter(pk=flow_id).first()
    if flow is None:
        raise NotFound("IVR menu", flow_id)
    return flow


@dataclass(frozen=True, slots=True)
class FlowPage:
    versions: list[IvrVersion]
    draft: IvrVersion | None
    published: IvrVersion | None
    problems: list[ivr_rules.Problem]  # of the draft, as publishing would find them
    outline: list[ivr_rules.OutlineLine]  # of the draft if it parses, else of the published version


def flow_page(flow: IvrFlow) -> FlowPage:
    from caseloop.channels.phone.actions import known_teams

    versions = list(
        IvrVersion.objects.filter(flow=flow).select_related("created_by", "published_by").order_by("-number")
    )
    draft = next((v for v in versions if v.state == IvrState.DRAFT), None)
    published = next((v for v in versions if v.state == IvrState.PUBLISHED), None)
    problems = ivr_rules.validate(draft.definition, known_teams=known_teams()) if draft else []
    draft_parses = draft is not None and not any(p.code == ivr_rules.ProblemCode.MALFORMED for p in problems)
    shown = draft if draft_parses else published
    try:
        outline = ivr_rules.outline(ivr_rules.parse(shown.definition)) if shown else []
    except ivr_rules.Malformed:
        outline = []
    return FlowPage(versions=versions, draft=draft, published=published, problems=problems, outline=outline)


def calls_on_case(case: Case) -> list[Call]:
    return list(Call.objects.filter(case=case).select_related("line", "logged_by").order_by("-id")[:50])


def texts_on_case(case: Case) -> list[SmsMessage]:
    return list(SmsMessage.objects.filter(case=case).order_by("-id")[:50])


def webhooks_for_admin(actor: User | None, *, state: WebhookState | None = None) -> QuerySet[WebhookDelivery]:
    """Kept provider webhook requests, newest first (administrators; None: the command line)."""
    require_role(actor, Role.ADMIN)
    rows = WebhookDelivery.objects.order_by("-id")
    return rows.filter(state=state) if state is not None else rows
