"""Every write of the phone channel: IVR versions and lines (administrators), and calls.

A provider call is followed through its webhooks — `start_call`, `choose`
(each key pressed), `route_call` (put through to a team), `record_dial_result`,
`record_recording` — and written to the case and timeline once, by
`finish_call`, when the provider reports that it ended. Calls that reached a
team go on a case (the caller's open phone/text case, or a new one); calls
that ended in the menu (an answer heard, or a hang-up) go on the caller's
timeline only, so the menu's self-service is visible without empty cases.
Reps log calls by hand with `log_call`.

Every signed provider webhook (calls and texts) is kept first, as it arrived,
by `keep_webhook`, and marked processed or failed once its view has run
(`caseloop.channels.phone.webhooks` runs them, and replays failed ones);
`purge_webhooks` forgets processed ones after CASELOOP_WEBHOOK_KEEP_DAYS.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max

from caseloop.cases.actions import MessageInput, add_message, create_case
from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.channels.phone import ivr as ivr_rules
from caseloop.channels.phone.choices import CallDirection, CallOutcome, CallSource, IvrState, WebhookState
from caseloop.channels.phone.errors import PhoneError, PhoneErrorCode
from caseloop.channels.phone.models import Call, IvrFlow, IvrVersion, PhoneLine, WebhookDelivery
from caseloop.channels.sms.threads import open_case_for
from caseloop.core import clock, strictjson
from caseloop.core.errors import DomainError, Invalid
from caseloop.customers.actions import create_contact, find_or_create_contact
from caseloop.customers.choices import IdentityKind
from caseloop.customers.identities import normalise_identity
from caseloop.customers.models import Contact
from caseloop.customers.selectors import find_contact_by_identity
from caseloop.identity.choices import Role
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import require_role, require_staff
from caseloop.timeline.actions import record_audit, record_event
from caseloop.timeline.choices import SubjectKind as S

MAX_DEFINITION_BYTES = 200_000
MAX_MANUAL_SECONDS = 24 * 3600


def normalise_number(raw: str) -> str | None:
    """E.164, or None for a withheld or unusable caller id ("anonymous", "+266696687", "")."""
    try:
        return normalise_identity(IdentityKind.PHONE, raw)
    except DomainError:
        return None


def known_teams() -> set[str]:
    return set(Team.objects.values_list("slug", flat=True))


# --- IVR versions (administrators) ----------------------------------------------------------
def parse_definition(text: str) -> Any:
    """The JSON of a definition typed into the editor, or a clear refusal."""
    if len(text.encode()) > MAX_DEFINITION_BYTES:
        raise PhoneError(PhoneErrorCode.IVR_NOT_JSON, f"A definition is at most {MAX_DEFINITION_BYTES} bytes.",
                         field="definition")  # fmt: skip
    try:
        return strictjson.loads(text)
    except strictjson.RefusedDocument as exc:
        raise PhoneError(PhoneErrorCode.IVR_NOT_JSON, str(exc), field="definition") from exc
    except ValueError as exc:
        raise PhoneError(PhoneErrorCode.IVR_NOT_JSON, f"The definition is not valid JSON: {exc}.",
                         field="definition") from exc  # fmt: skip


def create_flow(*, actor: User | None, name: str) -> IvrFlow:
    """A new IVR with a first draft (the example menu) to edit."""
    require_role(actor, Role.ADMIN)
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("A menu needs a name of at most 100 characters.", field="name")
    now = clock.now()
    try:
        with transaction.atomic():
            flow = IvrFlow.objects.create(name=name, created_at=now)
            IvrVersion.objects.create(flow=flow, number=1, definition=ivr_rules.EXAMPLE, state=IvrState.DRAFT,
                                      note="first draft", created_by=actor, created_at=now, updated_at=now)  # fmt: skip
            record_audit(action="ivr_flow.create", object_type="ivr_flow", object_id=flow.pk, actor=actor,
                         after={"name": name})  # fmt: skip
    except IntegrityError as exc:
        raise PhoneError(PhoneErrorCode.FLOW_NAME_TAKEN, f"There is already a menu named {name!r}.", status=409,
                         field="name") from exc  # fmt: skip
    return flow


def save_draft(*, actor: User | None, flow: IvrFlow, definition: Any, note: str = "") -> IvrVersion:
    """Keep `definition` as the flow's draft (made from scratch if it has none). Drafts may break the rules;
    publishing is where they are enforced."""
    require_role(actor, Role.ADMIN)
    now = clock.now()
    with transaction.atomic():
        draft = IvrVersion.objects.select_for_update().filter(flow=flow, state=IvrState.DRAFT).first()
        if draft is None:
            number = (IvrVersion.objects.filter(flow=flow).aggregate(n=Max("number"))["n"] or 0) + 1
            draft = IvrVersion.objects.create(flow=flow, number=number, definition=definition, state=IvrState.DRAFT,
                                              note=note.strip()[:200], created_by=actor, created_at=now,
                                              updated_at=now)  # fmt: skip
        else:
            draft.definition = definition
            draft.note = note.strip()[:200] or draft.note
            draft.updated_at = now
            draft.save(update_fields=["definition", "note", "updated_at"])
        record_audit(action="ivr_version.save", object_type="ivr_version", object_id=draft.pk, actor=actor,
                     after={"flow": flow.pk, "number": draft.number})  # fmt: skip
    return draft


def restore_version(*, actor: User | None, version: IvrVersion) -> IvrVersion:
    """Start a draft from an earlier (or the published) version, replacing the current draft's content."""
    if version.state == IvrState.DRAFT:
        raise PhoneError(PhoneErrorCode.IVR_NOT_DRAFT, "That version is the draft already.", status=409)
    return save_draft(actor=actor, flow=version.flow, definition=version.definition,
                      note=f"from version {version.number}")  # fmt: skip


def publish_draft(*, actor: User | None, flow: IvrFlow) -> IvrVersion:
    """Check the draft against every IVR rule and, if it passes, make it the version calls use.

    Refused with `ivr_invalid` (and the problems in `extra["problems"]`)
    otherwise; nothing changes then. The version it replaces is retired.
    """
    require_role(actor, Role.ADMIN)
    with transaction.atomic():
        draft = IvrVersion.objects.select_for_update().filter(flow=flow, state=IvrState.DRAFT).first()
        if draft is None:
            raise PhoneError(PhoneErrorCode.IVR_NOT_DRAFT, f"{flow} has no draft to publish.", status=409)
        problems = ivr_rules.validate(draft.definition, known_teams=known_teams())
        if problems:
            raise PhoneError(
                PhoneErrorCode.IVR_INVALID,
                f"Version {draft.number} cannot be published: {len(problems)} problem(s).",
                extra={"problems": [{"code": p.code.value, "where": p.where, "message": p.message} for p in problems]},
            )
        now = clock.now()
        retired = IvrVersion.objects.filter(flow=flow, state=IvrState.PUBLISHED).update(state=IvrState.RETIRED,
                                                                                        updated_at=now)  # fmt: skip
        draft.state = IvrState.PUBLISHED
        draft.published_by = actor
        draft.published_at = now
        draft.updated_at = now
        draft.save(update_fields=["state", "published_by", "published_at", "updated_at"])
        record_audit(action="ivr_version.publish", object_type="ivr_version", object_id=draft.pk, actor=actor,
                     after={"flow": flow.pk, "number": draft.number, "replaced": bool(retired)})  # fmt: skip
    return draft


def create_line(*, actor: User | None, number: str, name: str, flow: IvrFlow | None, team: Team | None) -> PhoneLine:
    """One of our numbers at the provider: its calls are answered by `flow`, its calls and texts go to `team`."""
    require_role(actor, Role.ADMIN)
    e164 = normalise_number(number)
    if e164 is None:
        raise PhoneError(PhoneErrorCode.BAD_NUMBER, f"{number!r} is not a phone number.", field="number")
    if not name.strip():
        raise Invalid("A line needs a name.", field="name")
    try:
        with transaction.atomic():
            line = PhoneLine.objects.create(number=e164, name=name.strip()[:100], flow=flow, team=team,
                                            created_at=clock.now())  # fmt: skip
            after = {"number": e164, "flow": flow.pk if flow else None, "team": team.pk if team else None}
            record_audit(action="phone_line.create", object_type="phone_line", object_id=line.pk, actor=actor,
                         after=after)  # fmt: skip
    except IntegrityError as exc:
        raise PhoneError(PhoneErrorCode.LINE_NUMBER_TAKEN, f"{e164} is already a line.", status=409,
                         field="number") from exc  # fmt: skip
    return line


def update_line(*, actor: User | None, line: PhoneLine, flow: IvrFlow | None, team: Team | None,
                active: bool) -> PhoneLine:  # fmt: skip
    """Point a line at another menu or team, or take it out of service (its calls then hear an apology)."""
    require_role(actor, Role.ADMIN)
    before = {"flow": line.flow_id, "team": line.team_id, "active": line.active}
    with transaction.atomic():
        line.flow, line.team, line.active = flow, team, active
        line.save(update_fields=["flow", "team", "active"])
        record_audit(action="phone_line.update", object_type="phone_line", object_id=line.pk, actor=actor,
                     before=before, after={"flow": line.flow_id, "team": line.team_id, "active": active})  # fmt: skip
    return line


# --- provider calls ----------------------------------------------------------------------------
def published_version(line: PhoneLine | None) -> IvrVersion | None:
    if line is None or line.flow_id is None or not line.active:
        return None
    return IvrVersion.objects.filter(flow_id=line.flow_id, state=IvrState.PUBLISHED).first()


def start_call(*, call_sid: str, from_number: str, to_number: str) -> Call:
    """The provider tells us a call came in: note it (once per call id) with the menu version it will hear."""
    existing = Call.objects.filter(call_sid=call_sid).select_related("ivr_version").first()
    if existing is not None:
        return existing
    ours = normalise_number(to_number) or to_number.strip()[:40]
    line = PhoneLine.objects.filter(number=ours).first()
    version = published_version(line)
    try:
        with transaction.atomic():
            return Call.objects.create(
                call_sid=call_sid, source=CallSource.PROVIDER, direction=CallDirection.INBOUND, line=line,
                from_number=normalise_number(from_number) or from_number.strip()[:40] or "unknown", to_number=ours,
                ivr_version=version, started_at=clock.now(),
                outcome=CallOutcome.IN_PROGRESS if version else CallOutcome.NOT_CONFIGURED,
            )  # fmt: skip
    except IntegrityError:
        return Call.objects.select_related("ivr_version").get(call_sid=call_sid)


def _step_record(menu: str, option: ivr_rules.Option | None, action: str) -> dict[str, str]:
    if option is None:
        return {"menu": menu, "digit": "", "label": "No choice made: put through to a person", "action": action}
    return {"menu": menu, "digit": option.digit, "label": option.label, "action": option.action.value}


def choose(*, call: Call, step: ivr_rules.Step, menu_key: str) -> None:
    """Remember a choice the caller made in `menu_key` (menus, answers and routing all go into the path)."""
    if step.kind == ivr_rules.StepKind.RETRY:
        return
    record = _step_record(menu_key, step.option, "person" if step.option is None else step.option.action.value)
    path = [*call.ivr_path, record][:50]
    Call.objects.filter(pk=call.pk).update(ivr_path=path)
    call.ivr_path = path


def route_call(*, call: Call, team: str) -> None:
    """The caller is being put through to `team`: the menu part of the call ends now."""
    now = clock.now()
    Call.objects.filter(pk=call.pk, routed_at__isnull=True).update(routed_at=now, routed_team=team[:100])
    call.refresh_from_db(fields=["routed_at", "routed_team"])


def record_dial_result(*, call_sid: str, dial_status: str, talk_seconds: int) -> Call | None:
    """The put-through ended: how long the caller talked (0 when nobody answered)."""
    call = Call.objects.filter(call_sid=call_sid).first()
    if call is None:
        return None
    answered = dial_status in ("completed", "answered") and talk_seconds > 0
    Call.objects.filter(pk=call.pk).update(talk_seconds=talk_seconds if answered else 0)
    call.refresh_from_db()
    return call


def _seconds(delta: dt.timedelta) -> int:
    return max(0, int(delta.total_seconds()))


def call_summary(call: Call) -> str:
    """The text a logged call shows in the conversation."""
    if call.direction == CallDirection.INBOUND:
        line = f" on {call.line.name} ({call.line.number})" if call.line is not None else ""
        lines = [f"Phone call from {call.from_number}{line}."]
    else:
        lines = [f"Phone call to {call.to_number}."]
    if call.ivr_path:
        routed = f" → team {call.routed_team}" if call.routed_team else ""
        lines.append("Menu: " + " > ".join(call.path_labels) + routed)
    if call.source == CallSource.PROVIDER:
        lines.append(call.times_text())
    else:
        who = call.logged_by.name if call.logged_by else "a rep"
        lines.append(f"{call.times_text()} long (logged by {who}).")
    if call.recording_url:
        lines.append(f"Recording: {call.recording_url}")
    if call.notes:
        lines.append("")
        lines.append(call.notes)
    return "\n".join(lines)


def _outcome(call: Call) -> CallOutcome:
    if call.outcome == CallOutcome.NOT_CONFIGURED:
        return CallOutcome.NOT_CONFIGURED
    if call.routed_at is not None:
        return CallOutcome.TALKED if call.talk_seconds else CallOutcome.UNANSWERED
    if any(step.get("action") == ivr_rules.Action.ANSWER for step in call.ivr_path):
        return CallOutcome.SELF_SERVED
    return CallOutcome.ABANDONED


def _caller_contact(call: Call) -> Contact | None:
    """The caller's contact by their number (made if new); None when the number was withheld."""
    number = normalise_number(call.from_number)
    if number is None:
        return None
    return find_or_create_contact(actor=None, kind=IdentityKind.PHONE, value=number)


ENDED_STATUSES = frozenset({"completed", "busy", "no-answer", "canceled", "failed"})


def finish_call(*, call_sid: str, status: str, duration_seconds: int | None) -> Call | None:
    """The provider reports the call's end: work out its times and write it to the case or timeline, once.

    Time in the menu runs from the first webhook to being put through (or to
    the end); waiting is what remains of the provider's duration after the
    menu and the talk time it reported for the put-through.
    """
    call = Call.objects.filter(call_sid=call_sid).select_related("line", "line__team").first()
    if call is None:
        return None
    if status not in ENDED_STATUSES:
        Call.objects.filter(pk=call.pk).update(provider_status=status[:20])
        return call
    if call.logged_at is not None:
        return call
    now = clock.now()
    call.ended_at = now
    call.provider_status = status[:20]
    call.duration_seconds = duration_seconds if duration_seconds is not None else _seconds(now - call.started_at)
    if call.routed_at is not None:
        call.ivr_seconds = min(call.duration_seconds, _seconds(call.routed_at - call.started_at))
        call.talk_seconds = call.talk_seconds or 0
        call.queue_seconds = max(0, call.duration_seconds - call.ivr_seconds - call.talk_seconds)
    else:
        call.ivr_seconds = call.duration_seconds
    call.outcome = _outcome(call)
    contact = _caller_contact(call)
    with transaction.atomic():
        # claimed first: two status callbacks racing write the call once
        if not Call.objects.filter(pk=call.pk, logged_at__isnull=True).update(logged_at=now):
            return Call.objects.get(pk=call.pk)
        call.logged_at = now
        call.contact = contact
        if call.routed_at is not None:
            _log_on_case(call, contact)
        else:
            how = call.get_outcome_display().lower()
            path = " > ".join(call.path_labels) or "no choice made"
            record_event(kind="call.in_menu", subjects=[(S.CONTACT, contact.pk if contact else None)],
                         summary=f"Call from {call.from_number} ended in the menu ({how}): {path}",
                         data={"call": call.pk, "path": call.ivr_path, "ivr_seconds": call.ivr_seconds},
                         occurred_at=now)  # fmt: skip
        call.save(update_fields=["ended_at", "provider_status", "duration_seconds", "ivr_seconds", "talk_seconds",
                                 "queue_seconds", "outcome", "contact", "case", "message", "logged_at"])  # fmt: skip
    return call


def _log_on_case(call: Call, contact: Contact | None) -> None:
    if contact is None:
        # a withheld number still reached us: the case needs someone to belong to
        contact = create_contact(actor=None, name="Caller with a withheld number")
        call.contact = contact
    body = MessageInput(body_text=call_summary(call), external_id=f"call:{call.call_sid}")
    case = open_case_for(contact)
    message: Message | None
    if case is not None:
        message = add_message(actor=None, case=case, direction=Direction.INBOUND, body=body, channel=Channel.PHONE,
                              author_contact=contact, occurred_at=call.started_at).message  # fmt: skip
    else:
        team = Team.objects.filter(slug=call.routed_team).first() or (call.line.team if call.line else None)
        created = create_case(actor=None, requester=contact, subject=f"Phone call from {call.from_number}", body=body,
                              channel=Channel.PHONE, team=team, opened_at=call.started_at)  # fmt: skip
        case, message = created.case, created.message
    call.case = case
    call.message = message


def record_recording(*, call_sid: str, url: str) -> Call | None:
    """The provider has the call's recording: link it (and say so on the case if the call is already logged)."""
    if not url.startswith("https://"):
        return None
    call = Call.objects.filter(call_sid=call_sid).first()
    if call is None or call.recording_url == url:
        return call
    with transaction.atomic():
        Call.objects.filter(pk=call.pk).update(recording_url=url[:500])
        call.recording_url = url[:500]
        if call.case_id is not None:
            record_event(kind="call.recording", subjects=[(S.CASE, call.case_id)], case_id=call.case_id,
                         summary=f"Recording of the call from {call.from_number}: {url}"[:300],
                         data={"call": call.pk, "url": url})  # fmt: skip
    return call


# --- calls logged by hand ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ManualCall:
    direction: CallDirection
    number: str
    duration_seconds: int
    notes: str = ""


def log_call(*, actor: User, case: Case, call: ManualCall) -> Call:
    """A rep notes a call they made or took outside the provider: on the case's conversation and timeline."""
    require_staff(actor)
    number = normalise_number(call.number)
    if number is None:
        raise PhoneError(PhoneErrorCode.BAD_NUMBER, f"{call.number!r} is not a phone number.", field="number")
    if not 0 <= call.duration_seconds <= MAX_MANUAL_SECONDS:
        raise PhoneError(PhoneErrorCode.BAD_DURATION, "A call lasts between 0 seconds and 24 hours.", field="duration")
    notes = call.notes.strip()[:10_000]
    inbound = call.direction == CallDirection.INBOUND
    contact = find_contact_by_identity(IdentityKind.PHONE, number) or case.requester
    now = clock.now()
    with transaction.atomic():
        row = Call(source=CallSource.MANUAL, direction=call.direction, from_number=number if inbound else "",
                   to_number="" if inbound else number, contact=contact, case=case, started_at=now, ended_at=now,
                   duration_seconds=call.duration_seconds, talk_seconds=call.duration_seconds,
                   outcome=CallOutcome.TALKED, notes=notes, logged_by=actor, logged_at=now)  # fmt: skip
        body = MessageInput(body_text=call_summary(row))
        # a call the customer made is their message (the rep who logged it is on the call and the audit)
        added = add_message(actor=None if inbound else actor, case=case,
                            direction=Direction.INBOUND if inbound else Direction.OUTBOUND, body=body,
                            channel=Channel.PHONE, author_contact=contact if inbound else None)  # fmt: skip
        row.message = added.message
        row.save()
        record_audit(action="call.log", object_type="call", object_id=row.pk, actor=actor,
                     after={"case": case.pk, "direction": call.direction, "number": number,
                            "duration_seconds": call.duration_seconds})  # fmt: skip
    return row


# --- provider webhooks kept as they arrived (ADR 0075) ----------------------------------------------
WEBHOOK_STALE = dt.timedelta(minutes=10)  # a request still "received" after this is no longer being processed
MAX_WEBHOOK_ERROR = 5000
WEBHOOK_PURGE_BATCH = 1000


def keep_webhook(*, endpoint: str, path: str, url: str, params: Sequence[tuple[str, str]],
                 provider: str = "twilio") -> WebhookDelivery:  # fmt: skip
    """Keep a signed provider request as it arrived, before anything processes it.

    Its own transaction: called outside any (the webhook decorator runs
    before the view's), the row is committed when this returns, so whatever
    processing does next the request can be replayed.
    """
    now = clock.now()
    with transaction.atomic():
        return WebhookDelivery.objects.create(
            provider=provider, endpoint=endpoint[:100], path=path, url=url,
            params=json.dumps([[name, value] for name, value in params]), received_at=now, last_tried_at=now,
        )  # fmt: skip


def mark_webhook_processed(*, delivery_id: int, response_status: int) -> None:
    """Processing returned an answer (a refusal of a malformed request too: a replay would answer the same)."""
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        state=WebhookState.PROCESSED, response_status=response_status, error_type="", error="", processed_at=clock.now()
    )


def mark_webhook_failed(*, delivery_id: int, error: BaseException) -> None:
    """Processing raised: keep why. Called after the view's transaction rolled back, in a transaction of its own."""
    kind = type(error)
    text = str(error).strip() or kind.__name__
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            state=WebhookState.FAILED, response_status=None, error_type=f"{kind.__module__}.{kind.__qualname__}"[:200],
            error=text[:MAX_WEBHOOK_ERROR], processed_at=None,
        )  # fmt: skip


def begin_webhook_retry(*, actor: User | None, delivery: WebhookDelivery) -> WebhookDelivery:
    """Count another attempt at a kept request, audited (an administrator's retry; None: the command line).

    A request received moments ago and not yet processed may still be running: refused until it is stale.
    """
    require_role(actor, Role.ADMIN)
    now = clock.now()
    if delivery.state == WebhookState.RECEIVED and delivery.received_at > now - WEBHOOK_STALE:
        raise PhoneError(PhoneErrorCode.WEBHOOK_IN_PROGRESS,
                         f"Webhook request {delivery.pk} arrived moments ago and may still be processing; "
                         "try again in a few minutes.", status=409)  # fmt: skip
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1, last_tried_at=now)
        before = {"state": delivery.state, "attempts": delivery.attempts, "error": delivery.error[:200]}
        record_audit(action="webhook.retry", object_type="webhook_delivery", object_id=delivery.pk, actor=actor,
                     before=before)  # fmt: skip
    delivery.refresh_from_db()
    return delivery


def purge_webhooks(*, keep_days: int | None = None, failed: bool = False) -> int:
    """Forget processed requests received more than `keep_days` ago (CASELOOP_WEBHOOK_KEEP_DAYS); how many.

    Failed ones are kept (they are what a retry needs) unless `failed`: an
    administrator clearing them by hand. A request still "received" is never
    purged here: it is either being processed or was cut off, and is kept for a retry.
    """
    days = int(settings.CASELOOP_WEBHOOK_KEEP_DAYS) if keep_days is None else keep_days
    states = [WebhookState.PROCESSED, WebhookState.FAILED] if failed else [WebhookState.PROCESSED]
    cutoff = clock.now() - dt.timedelta(days=max(days, 0))
    due = WebhookDelivery.objects.filter(state__in=states, received_at__lt=cutoff)
    deleted = 0
    while True:
        # in batches: a first purge after lowering the setting must not hold SQLite's write lock for long
        batch = list(due.order_by("id").values_list("id", flat=True)[:WEBHOOK_PURGE_BATCH])
        if not batch:
            return deleted
        deleted += WebhookDelivery.objects.filter(id__in=batch).delete()[0]
