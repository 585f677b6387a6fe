"""The phone channel's pages: the provider's voice webhooks (TwiML), the IVR editor, and the case page's calls panel.

Webhooks (signed and kept as they arrived, see `webhooks.py`; voice, menu and dial are steps of a live
call, status and recording callbacks that a retry can replay):

    POST /phone/twilio/voice/                 a call comes in: the start menu
    POST /phone/twilio/menu/<version>/<menu>/ a key pressed (or none) in a menu
    POST /phone/twilio/dial/                  the put-through to a team ended
    POST /phone/twilio/status/                the call's status changed (ended: it is logged)
    POST /phone/twilio/recording/             the call's recording is ready

A call keeps the menu version it started with: every URL we give the provider
names the version.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caseloop.cases.selectors import access_case
from caseloop.channels.phone import ivr as ivr_rules
from caseloop.channels.phone.actions import (
    ManualCall,
    choose,
    create_flow,
    create_line,
    finish_call,
    log_call,
    parse_definition,
    publish_draft,
    record_dial_result,
    record_recording,
    restore_version,
    route_call,
    save_draft,
    start_call,
    update_line,
)
from caseloop.channels.phone.choices import CallDirection, WebhookState
from caseloop.channels.phone.models import Call, IvrVersion
from caseloop.channels.phone.provider import TwiML, empty_twiml, param, url_for, whole_number
from caseloop.channels.phone.selectors import (
    access_flow,
    calls_on_case,
    flow_page,
    flows_and_lines,
    texts_on_case,
    webhooks_for_admin,
)
from caseloop.channels.phone.webhooks import call_webhook, is_replayable, provider_webhook, replay_webhook
from caseloop.channels.staff_pages import StaffRequest, admin_page, conversation, is_htmx, staff_page
from caseloop.core.errors import DomainError, Invalid
from caseloop.identity.selectors import teams

SORRY_NOT_SET_UP = "Sorry, this number is not taking calls at the moment. Please try again later."
SORRY_WRONG_KEY = "Sorry, that is not one of the choices."
SORRY_NOBODY = "Sorry, nobody could take your call right now. We have noted it. Goodbye."
PUTTING_THROUGH = "Please hold while we put you through."


# --- webhooks ---------------------------------------------------------------------------------
def _say(twiml: TwiML, ivr: ivr_rules.Ivr, text: str) -> None:
    twiml.say(text, voice=ivr.voice, language=ivr.language)


def _menu_url(version: IvrVersion, menu: str, tries: int) -> str:
    return url_for("phone_channel:menu", version_id=version.pk, menu=menu) + f"?tries={tries}"


def _read_menu(twiml: TwiML, version: IvrVersion, ivr: ivr_rules.Ivr, menu: ivr_rules.Menu, tries: int) -> None:
    """The menu's prompt inside a <Gather>; with no key pressed, the provider comes back without Digits."""
    url = _menu_url(version, menu.key, tries)
    gather = twiml.gather(action=url)
    twiml.say(menu.prompt, voice=ivr.voice, language=ivr.language, parent=gather)
    twiml.redirect(url)


def _put_through(twiml: TwiML, call: Call, ivr: ivr_rules.Ivr, team: str) -> None:
    route_call(call=call, team=team)
    _say(twiml, ivr, PUTTING_THROUGH)
    record = bool(settings.CASELOOP_PHONE_RECORD_CALLS)
    twiml.dial(ivr.dial[team], action=url_for("phone_channel:dial"), timeout=settings.CASELOOP_PHONE_RING_SECONDS,
               record=record, recording_callback=url_for("phone_channel:recording"))  # fmt: skip


def _call_of(request: HttpRequest) -> Call:
    data = request.POST
    return start_call(call_sid=param(data, "CallSid"), from_number=param(data, "From"), to_number=param(data, "To"))


@call_webhook
def voice(request: HttpRequest) -> HttpResponse:
    """A call comes in on one of our lines: read its published menu's start (or apologise if it has none)."""
    if not param(request.POST, "CallSid"):
        return HttpResponse("CallSid is missing.", status=400, content_type="text/plain")
    call = _call_of(request)
    twiml = TwiML()
    version = call.ivr_version
    if version is None:
        twiml.say(SORRY_NOT_SET_UP)
        twiml.hangup()
        return twiml.response()
    ivr = ivr_rules.parse(version.definition)
    _read_menu(twiml, version, ivr, ivr.menus[ivr.start], tries=0)
    return twiml.response()


@call_webhook
def menu(request: HttpRequest, version_id: int, menu: str) -> HttpResponse:
    """A key pressed in `menu` (or none: the <Gather> timed out)."""
    if not param(request.POST, "CallSid"):
        return HttpResponse("CallSid is missing.", status=400, content_type="text/plain")
    version = get_object_or_404(IvrVersion, pk=version_id)
    ivr = ivr_rules.parse(version.definition)
    if menu not in ivr.menus:
        return HttpResponse("No such menu in this version.", status=404, content_type="text/plain")
    tries = min(whole_number(request.GET.get("tries", "0"), max_digits=4) or 0, ivr_rules.MAX_TRIES)
    call = _call_of(request)
    step = ivr_rules.next_step(ivr, menu, param(request.POST, "Digits")[:1], tries=tries)
    choose(call=call, step=step, menu_key=menu)
    twiml = TwiML()
    if step.kind == ivr_rules.StepKind.MENU:
        _read_menu(twiml, version, ivr, step.menu, tries=0)
    elif step.kind == ivr_rules.StepKind.ANSWER:
        assert step.option is not None
        _say(twiml, ivr, step.option.text)
        _read_menu(twiml, version, ivr, step.menu, tries=0)
    elif step.kind == ivr_rules.StepKind.RETRY:
        if param(request.POST, "Digits"):
            _say(twiml, ivr, SORRY_WRONG_KEY)
        _read_menu(twiml, version, ivr, step.menu, tries=tries + 1)
    else:
        _put_through(twiml, call, ivr, step.team)
    return twiml.response()


def _whole_seconds(raw: str) -> int | None:
    # at most 9 digits: about 31 years, and within every integer column
    return whole_number(raw, max_digits=9)


@call_webhook
def dial(request: HttpRequest) -> HttpResponse:
    """The put-through ended: hang up after a conversation, apologise if nobody answered."""
    data = request.POST
    call = record_dial_result(call_sid=param(data, "CallSid"), dial_status=param(data, "DialCallStatus"),
                              talk_seconds=_whole_seconds(param(data, "DialCallDuration")) or 0)  # fmt: skip
    twiml = TwiML()
    if call is not None and not call.talk_seconds:
        twiml.say(SORRY_NOBODY)
    twiml.hangup()
    return twiml.response()


@provider_webhook
def status(request: HttpRequest) -> HttpResponse:
    data = request.POST
    finish_call(call_sid=param(data, "CallSid"), status=param(data, "CallStatus"),
                duration_seconds=_whole_seconds(param(data, "CallDuration")))  # fmt: skip
    return empty_twiml()


@provider_webhook
def recording(request: HttpRequest) -> HttpResponse:
    data = request.POST
    if param(data, "RecordingStatus", "completed") == "completed":
        record_recording(call_sid=param(data, "CallSid"), url=param(data, "RecordingUrl"))
    return empty_twiml()


# --- kept webhook requests (administrators) ----------------------------------------------------
@require_GET
@admin_page
def webhook_requests(request: StaffRequest) -> HttpResponseBase:
    """The provider's requests as kept, failed ones first (`?state=`), each with a Retry where it can be replayed."""
    state_param = request.GET.get("state", WebhookState.FAILED)
    state = WebhookState(state_param) if state_param in WebhookState.values else WebhookState.FAILED
    page = Paginator(webhooks_for_admin(request.user, state=state), 50).get_page(request.GET.get("page"))
    rows = [(row, is_replayable(row)) for row in page]
    return render(request, "phone_channel/webhooks.html",
                  {"page": page, "rows": rows, "state": state, "states": WebhookState.choices})  # fmt: skip


@require_POST
@admin_page
def webhook_retry(request: StaffRequest, delivery_id: int) -> HttpResponseBase:
    row = replay_webhook(actor=request.user, delivery_id=delivery_id)
    if row.state == WebhookState.PROCESSED:
        messages.success(request, f"Webhook request {row.pk} was processed.")
    else:
        messages.error(request, f"Webhook request {row.pk} failed again: {row.error_type}: {row.error}"[:500])
    return redirect("phone_channel:webhooks")


# --- the IVR editor (administrators) --------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@admin_page
def ivr_home(request: StaffRequest) -> HttpResponseBase:
    """Menus and lines; POST adds a menu (`name`) or a line (`number`, `line_name`, `flow`, `team`)."""
    error: DomainError | None = None
    if request.method == "POST":
        data = request.POST
        try:
            if "line" in data:
                line = next((x for x in flows_and_lines(request.user).lines if str(x.pk) == data["line"]), None)
                if line is None:
                    raise Invalid("That line does not exist.", field="line")
                flows = {str(f.pk): f for f in flows_and_lines(request.user).flows}
                team = next((t for t in teams() if str(t.pk) == data.get("team", "")), None)
                update_line(actor=request.user, line=line, flow=flows.get(data.get("flow", "")), team=team,
                            active=data.get("active") == "on")  # fmt: skip
                messages.success(request, f"Line {line.number} saved.")
                return redirect("phone_channel:ivr_home")
            if "number" in data:
                flows = {str(f.pk): f for f in flows_and_lines(request.user).flows}
                team = next((t for t in teams() if str(t.pk) == data.get("team", "")), None)
                create_line(actor=request.user, number=data["number"], name=data.get("line_name", ""),
                            flow=flows.get(data.get("flow", "")), team=team)  # fmt: skip
                messages.success(request, "The line was added.")
                return redirect("phone_channel:ivr_home")
            flow = create_flow(actor=request.user, name=data.get("name", ""))
            return redirect("phone_channel:ivr_flow", flow_id=flow.pk)
        except DomainError as exc:
            error = exc
    context = {
        "overview": flows_and_lines(request.user),
        "teams": teams(),
        "error": error,
        "webhook": url_for("phone_channel:voice"),
        "status_webhook": url_for("phone_channel:status"),
        "sms_webhook": url_for("sms_channel:inbound"),
        "sms_status_webhook": url_for("sms_channel:status"),
    }
    return render(request, "phone_channel/ivr_home.html", context, status=error.status if error else 200)


@require_http_methods(["GET", "POST"])
@admin_page
def ivr_flow(request: StaffRequest, flow_id: int) -> HttpResponseBase:
    """One menu's versions and its draft.

    POST `save` or `publish` (with `definition` and `note`: publishing saves first), or `restore` (a version id).
    """
    flow = access_flow(request.user, flow_id)
    error: DomainError | None = None
    typed: str | None = None
    if request.method == "POST":
        data = request.POST
        try:
            if "restore" in data:
                version_pk = whole_number(data["restore"])
                if version_pk is None:
                    raise Invalid("Choose a version to copy.", field="restore")
                version = get_object_or_404(IvrVersion, pk=version_pk, flow=flow)
                restore_version(actor=request.user, version=version)
                messages.success(request, f"The draft now holds version {version.number}.")
            else:
                typed = data.get("definition", "")
                save_draft(actor=request.user, flow=flow, definition=parse_definition(typed), note=data.get("note", ""))
                if "publish" in data:
                    published = publish_draft(actor=request.user, flow=flow)
                    messages.success(request, f"Version {published.number} is live: new calls hear it now.")
                else:
                    messages.success(request, "Draft saved.")
            return redirect("phone_channel:ivr_flow", flow_id=flow.pk)
        except DomainError as exc:
            error = exc
    page = flow_page(flow)
    context: dict[str, Any] = {"flow": flow, "page": page, "error": error,
                               "problems": error.extra.get("problems", []) if error else [],
                               "typed": typed if typed is not None else (
                                   json.dumps(page.draft.definition, indent=2, ensure_ascii=False)
                                   if page.draft else "")}  # fmt: skip
    return render(request, "phone_channel/ivr_flow.html", context, status=error.status if error else 200)


# --- the case page: calls and texts, and logging a call by hand -----------------------------------------
def _duration(raw: str) -> int:
    """ "4:30", "4" (minutes) or "0:45" → seconds."""
    text = raw.strip()
    minutes, _, seconds = text.partition(":")
    whole_minutes = whole_number(minutes, max_digits=9)
    whole_seconds = whole_number(seconds, max_digits=2) if seconds else 0
    if whole_minutes is None or whole_seconds is None or whole_seconds >= 60:
        raise Invalid("Give the length as minutes, or minutes:seconds (4:30).", field="duration")
    return whole_minutes * 60 + whole_seconds


@require_http_methods(["GET", "POST"])
@staff_page
def case_calls(request: StaffRequest, case_id: int) -> HttpResponseBase:
    """The calls and texts of a case, and the "log a call" form (an htmx fragment of the case page)."""
    case = access_case(request.user, case_id)
    error: DomainError | None = None
    logged = False
    if request.method == "POST":
        data = request.POST
        try:
            direction = data.get("direction", "")
            if direction not in CallDirection.values:
                raise Invalid("Say whether the customer called or you called them.", field="direction")
            log_call(actor=request.user, case=case,
                     call=ManualCall(direction=CallDirection(direction), number=data.get("number", ""),
                                     duration_seconds=_duration(data.get("duration", "")),
                                     notes=data.get("notes", "")))  # fmt: skip
            logged = True
        except DomainError as exc:
            error = exc
        if not is_htmx(request):
            if error is not None:
                return render(request, "web/error.html", {"error": error}, status=error.status)
            return redirect("web:case", case_id=case.pk)
    context = {"case": case, "calls": calls_on_case(case), "texts": texts_on_case(case), "error": error,
               "form": request.POST if error else {}, "directions": CallDirection.choices, "logged": logged,
               # the logged call is a message: the conversation above is refreshed in the same answer
               **(conversation(request.user, case) if logged else {})}  # fmt: skip
    response = render(request, "phone_channel/case_calls.html", context, status=error.status if error else 200)
    if logged:
        response["HX-Trigger"] = "case-changed"  # the timeline refreshes itself on this
    return response
