"""The case page: conversation, composer, in-place edits, custom fields, presence, timeline and customer panel."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caseloop.cases.actions import MessageInput, add_message, change_status, leave_case, touch_presence, update_case
from caseloop.cases.attachments import AttachmentInput, attachments_root, safe_content_type, safe_filename
from caseloop.cases.choices import CaseStatus, Channel, CustomFieldType, Direction, PresenceActivity, Priority
from caseloop.cases.macros import render_macro
from caseloop.cases.models import Case, CustomFieldDefinition, Message, MessageAttachment
from caseloop.cases.selectors import access_case, access_macro, macros_for, messages_visible_to, present_on_case
from caseloop.channels.email.selectors import delivery_states, display_texts
from caseloop.core.errors import DomainError, Invalid, NotFound
from caseloop.identity.choices import Role
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import staff_members, teams
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.selectors import timeline_page
from caseloop.web.access import StaffRequest, staff_view
from caseloop.web.forms import ComposerForm
from caseloop.web.htmx import is_htmx, trigger
from caseloop.web.panels import customer_panel

TIMELINE_PAGE = 20
# Customer channels a reply goes back on; a case opened on an internal channel is answered by email.
_REPLY_CHANNELS = {Channel.EMAIL, Channel.WEB, Channel.PORTAL, Channel.CHAT, Channel.PHONE, Channel.SMS}


def _timeline(case: Case, before_id: int | None = None) -> dict[str, Any]:
    events = timeline_page(subject_kind=SubjectKind.CASE, subject_ids=[case.pk], before_id=before_id,
                           limit=TIMELINE_PAGE + 1)  # fmt: skip
    return {"events": events[:TIMELINE_PAGE], "older": events[TIMELINE_PAGE - 1].pk if len(events) > TIMELINE_PAGE
            else None}  # fmt: skip


def _props_context(case: Case, *, error: DomainError | None = None) -> dict[str, Any]:
    return {
        "case": case,
        "tags": sorted(t.name for t in case.tags.all()),
        "statuses": CaseStatus.choices,
        "priorities": Priority.choices,
        "agents": staff_members(),
        "teams": teams(),
        "props_error": error,
    }


def _email_facts(request: StaffRequest, thread: list[Message]) -> dict[str, Any]:
    """The trimmed text of email messages and the delivery state of email replies: at most two
    queries, whatever the number of messages, and none on a case without email."""
    email = [m for m in thread if m.channel == Channel.EMAIL]
    received = [m.pk for m in email if m.direction != Direction.OUTBOUND]
    sent = [m.pk for m in email if m.direction == Direction.OUTBOUND]
    return {
        "email_texts": display_texts(received) if received else {},
        "deliveries": delivery_states(request.user, sent) if sent else {},
    }


def _thread_context(request: StaffRequest, case: Case, form: ComposerForm | None = None,
                    error: DomainError | None = None) -> dict[str, Any]:  # fmt: skip
    thread = list(messages_visible_to(request.user, case))
    return {
        "case": case,
        "thread": thread,
        **_email_facts(request, thread),
        "form": form or ComposerForm(),
        "composer_error": error,
        "macros": list(macros_for(request.user)),
    }


@require_GET
@staff_view
def case_detail(request: StaffRequest, case_id: int) -> HttpResponse:
    case = access_case(request.user, case_id)
    context = {
        **_props_context(case),
        **_thread_context(request, case),
        "timeline": _timeline(case),
        "panel": customer_panel(request.user, case),
    }
    return render(request, "web/case.html", context)


@require_POST
@staff_view
def post_message(request: StaffRequest, case_id: int) -> HttpResponse:
    """The composer: a public reply or an internal note, with attachments."""
    case = access_case(request.user, case_id)
    form = ComposerForm(request.POST, request.FILES)
    error: DomainError | None = None
    if form.is_valid():
        note = form.cleaned_data["kind"] == "note"
        files = [AttachmentInput(filename=f.name or "file", content=f.read(), content_type=f.content_type or "")
                 for f in form.cleaned_data["attachments"]]  # fmt: skip
        channel = (
            Channel.INTERNAL if note else Channel(case.channel) if case.channel in _REPLY_CHANNELS else Channel.EMAIL
        )
        try:
            body = MessageInput(body_text=form.cleaned_data["body"], attachments=files)
            direction = Direction.NOTE if note else Direction.OUTBOUND
            add_message(actor=request.user, case=case, direction=direction, body=body, channel=channel)
        except DomainError as exc:
            error = exc
        else:
            if not is_htmx(request):
                return redirect("web:case", case_id=case.pk)
            case = access_case(request.user, case_id)
            fresh = ComposerForm(initial={"kind": form.cleaned_data["kind"]})
            response = render(request, "web/partials/thread.html", _thread_context(request, case, fresh))
            return trigger(response, "case-changed")
    else:
        error = Invalid("; ".join(str(e) for errors in form.errors.values() for e in errors))
    context = _thread_context(request, case, form, error)
    status = error.status if error is not None else 422
    if is_htmx(request):
        return render(request, "web/partials/thread.html", context, status=status)
    return render(request, "web/case.html", {**context, **_props_context(case), "timeline": _timeline(case),
                                             "panel": customer_panel(request.user, case)}, status=status)  # fmt: skip


def _team(raw: str) -> Team | None:
    if not raw:
        return None
    found = next((t for t in teams() if str(t.pk) == raw), None)
    if found is None:
        raise Invalid("That team does not exist.", field="team")
    return found


@dataclass(frozen=True, slots=True)
class _Edit:
    """What a post to the Details panel changes: a new status, and `update_case`'s arguments."""

    status: CaseStatus | None
    fields: dict[str, Any]


def _assignee(raw: str) -> User | None:
    if not raw:
        return None
    found = next((u for u in staff_members() if str(u.pk) == raw), None)
    if found is None:
        raise Invalid("That person cannot be assigned cases.", field="assignee")
    return found


_FIELDS = ("status", "priority", "assignee", "team", "remove_tag")


def _edit(data: QueryDict, case: Case) -> _Edit:
    """Each posted field whose value differs from the case's, every value checked first.

    A posted value equal to the case's is no change: a post may carry more fields than the one
    that was changed (a whole form of them), and an unchanged one must neither mask the change
    nor count as one (on a closed case, it would be refused).
    """
    add_tags = (data.get("add_tag") or "").replace(",", " ").split()
    if not add_tags and not any(name in data for name in _FIELDS):
        raise Invalid("Nothing to change.")
    status: CaseStatus | None = None
    fields: dict[str, Any] = {}
    if (raw := data.get("status")) is not None:
        if raw not in CaseStatus.values:
            raise Invalid("Unknown status.", field="status")
        if raw != case.status:
            status = CaseStatus(raw)
    if (raw := data.get("priority")) is not None:
        if raw not in Priority.values:
            raise Invalid("Unknown priority.", field="priority")
        if raw != case.priority:
            fields["priority"] = Priority(raw)
    if (raw := data.get("assignee")) is not None:
        assignee = _assignee(raw)
        if (assignee.pk if assignee else None) != case.assignee_id:
            fields["assignee"] = assignee
    if (raw := data.get("team")) is not None:
        team = _team(raw)
        if (team.pk if team else None) != case.team_id:
            fields["team"] = team
    if add_tags:
        fields["add_tags"] = add_tags
    if (raw := data.get("remove_tag")) is not None:
        fields["remove_tags"] = [raw]
    return _Edit(status=status, fields=fields)


def _saved_words(case: Case, edit: _Edit) -> str:
    """What the page's live region says after an edit of the Details panel ("" when nothing changed)."""
    said = []
    if edit.status is not None:
        said.append(f"Status saved: {case.get_status_display()}.")
    if "priority" in edit.fields:
        said.append(f"Priority saved: {case.get_priority_display()}.")
    if "assignee" in edit.fields:
        said.append(f"Assignee saved: {case.assignee.name if case.assignee else 'Unassigned'}.")
    if "team" in edit.fields:
        said.append(f"Team saved: {case.team.name if case.team else 'No team'}.")
    if added := edit.fields.get("add_tags"):
        said.append(f"Tag added: {', '.join(added)}.")
    if removed := edit.fields.get("remove_tags"):
        said.append(f"Tag removed: {', '.join(removed)}.")
    return " ".join(said)


@require_POST
@staff_view
def edit_case(request: StaffRequest, case_id: int) -> HttpResponse:
    """The Details panel's in-place edits: status, priority, assignee, team, a tag added or removed.

    The panel posts one field at a time; a post with several applies each that differs from the
    case, all or nothing: the other fields in one `update_case`, then the status (after them, so
    that closing comes last).
    """
    case = access_case(request.user, case_id)
    actor = request.user
    error: DomainError | None = None
    changed = False
    edit = _Edit(status=None, fields={})
    try:
        edit = _edit(request.POST, case)
        with transaction.atomic():
            if edit.fields:
                update_case(actor=actor, case=case, **edit.fields)
            if edit.status is not None:
                change_status(actor=actor, case=case, status=edit.status)
        changed = bool(edit.fields) or edit.status is not None
    except DomainError as exc:
        error = exc
    case = access_case(actor, case_id)
    if not is_htmx(request):
        if error is not None:
            return render(request, "web/error.html", {"error": error, "back": case}, status=error.status)
        return redirect("web:case", case_id=case.pk)
    context = {**_props_context(case, error=error), "announce": "" if error else _saved_words(case, edit)}
    response = render(request, "web/partials/case_props.html", context, status=error.status if error else 200)
    return trigger(response, "case-changed") if changed else response


# --- custom fields: the Details panel's Fields block --------------------------------------------
FIELD_INPUT = "custom_fields."  # an input's name is this and the field's key, as a refusal names its field
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,19}")  # ASCII digits, short enough for int() to read at once
_YES_NO = {"yes": True, "no": False}


def _definitions() -> list[CustomFieldDefinition]:
    return list(CustomFieldDefinition.objects.order_by("pk"))


def _typed(definition: CustomFieldDefinition | None, raw: str) -> Any:
    """An input's text as the value `update_case` takes: None to clear the field, else the value in
    its type where the text reads as one, else the text itself, for the domain to refuse in words."""
    text = raw.strip()
    if not text:
        return None
    if definition is not None and definition.field_type == CustomFieldType.NUMBER and _WHOLE_NUMBER.fullmatch(text):
        return int(text)
    if definition is not None and definition.field_type == CustomFieldType.BOOLEAN:
        return _YES_NO.get(text, text)
    return text


def _field_changes(data: QueryDict, case: Case, definitions: Sequence[CustomFieldDefinition]) -> dict[str, Any]:
    """Each posted custom field whose value differs from the case's (None: cleared).

    As with the Details selects, a posted value equal to the case's is no change: it is neither
    written (no audit row, no timeline item) nor refused on a closed case.
    """
    by_key = {d.key: d for d in definitions}
    posted = [name for name in data if name.startswith(FIELD_INPUT)]
    if not posted:
        raise Invalid("Nothing to change.")
    changes: dict[str, Any] = {}
    for name in posted:
        key = name.removeprefix(FIELD_INPUT)
        value = _typed(by_key.get(key), data.get(name, ""))  # a NUL never gets here (config.middleware: a 400)
        if value != case.custom_fields.get(key) or key not in by_key:
            changes[key] = value  # an unknown key goes on, for update_case to refuse by its code
    return changes


def _fields_context(request: StaffRequest, case: Case, definitions: Sequence[CustomFieldDefinition], *,
                    typed: dict[str, str] | None = None, error: DomainError | None = None,
                    saved: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The Fields block: each definition with the case's value as its input shows it, or the text
    just refused (`typed`) with the refusal beside it."""
    typed = typed or {}
    rows = []
    for d in definitions:
        name = FIELD_INPUT + d.key
        value = case.custom_fields.get(d.key)
        shown = ("yes" if value else "no") if isinstance(value, bool) else "" if value is None else str(value)
        refused = error is not None and name in typed
        rows.append({
            "definition": d,
            "name": name,
            "value": typed[name] if refused else shown,
            "stored": shown,
            "error": error if refused else None,
            "saved": saved == name,
            "missing": d.required and not shown,
        })  # fmt: skip
    return {
        "case": case,
        "rows": rows,
        "closed": case.status == CaseStatus.CLOSED,
        "can_define": request.user.role in (Role.MANAGER, Role.ADMIN),
        # a refusal that names no field of this block (say, the case closed meanwhile) goes on top
        "fields_error": error if error is not None and not any(r["error"] for r in rows) else None,
    }


@require_http_methods(["GET", "POST"])
@staff_view
def case_fields(request: StaffRequest, case_id: int) -> HttpResponse:
    """The case's custom fields: the block (GET), or one field saved in place (POST).

    Each input is alone in its form and posts only itself; only a value that differs from the
    case's is written, through `update_case(custom_fields=…)`. A refusal answers the block with
    the typed text kept and the reason beside that field.
    """
    case = access_case(request.user, case_id)
    definitions = _definitions()
    if request.method == "GET":
        return render(request, "web/partials/case_fields.html", _fields_context(request, case, definitions))
    typed = {name: request.POST.get(name, "") for name in request.POST if name.startswith(FIELD_INPUT)}
    error: DomainError | None = None
    changes: dict[str, Any] = {}
    try:
        changes = _field_changes(request.POST, case, definitions)
        if changes:
            update_case(actor=request.user, case=case, custom_fields=changes)
    except DomainError as exc:
        error = exc
    if not is_htmx(request):
        if error is not None:
            return render(request, "web/error.html", {"error": error, "back": case}, status=error.status)
        return redirect("web:case", case_id=case.pk)
    case = access_case(request.user, case_id)
    saved = next(iter(typed), None) if error is None and changes else None
    context = _fields_context(request, case, definitions, typed=typed, error=error, saved=saved)
    # the row's "Saved." is replaced content: the page's live region says it ("" after a refusal, said beside the field)
    labels = {FIELD_INPUT + d.key: d.label for d in definitions}
    context["announce"] = f"{labels.get(saved, 'Field')} saved." if saved else ""
    response = render(request, "web/partials/case_fields.html", context, status=error.status if error else 200)
    return trigger(response, "case-changed") if error is None and changes else response


@require_GET
@staff_view
def case_timeline(request: StaffRequest, case_id: int) -> HttpResponse:
    """The case's timeline items: all of them again after a change, or the next older page."""
    case = access_case(request.user, case_id)
    if not is_htmx(request):
        return redirect("web:case", case_id=case.pk)
    before = request.GET.get("before", "")
    context = {"case": case, "timeline": _timeline(case, int(before) if before.isdigit() else None),
               "append": bool(before), "timeline_url": request.path}  # fmt: skip
    return render(request, "web/partials/timeline.html", context)


@require_POST
@staff_view
def presence(request: StaffRequest, case_id: int) -> HttpResponse:
    """Polled every ~10 s by an open case page: note this person, show the others."""
    case = access_case(request.user, case_id)
    activity = request.POST.get("activity", "")
    touch_presence(actor=request.user, case=case,
                   activity=PresenceActivity(activity) if activity in PresenceActivity.values
                   else PresenceActivity.VIEWING)  # fmt: skip
    others = present_on_case(case, exclude=request.user)
    return render(request, "web/partials/presence.html", {"case": case, "others": others})


@require_POST
@staff_view
def leave(request: StaffRequest, case_id: int) -> HttpResponse:
    case = access_case(request.user, case_id)
    leave_case(actor=request.user, case=case)
    return HttpResponse(status=204)


@require_GET
@staff_view
def macro_fill(request: StaffRequest, case_id: int) -> HttpResponse:
    """The composer's text with a canned reply appended, its placeholders filled.

    The answer replaces the composer's textarea, so a refusal (a canned reply deleted since the
    page loaded, or not one of ours) answers with the text as it came, never an error in its
    place: the reason and the picker as it is now go beside it, out of band.
    """
    raw = request.GET.get("macro", "")
    body = request.GET.get("body", "")
    try:
        case = access_case(request.user, case_id)
        if raw.isdigit():
            filled = render_macro(access_macro(request.user, int(raw)).body, case=case, agent=request.user)
            body = f"{body.rstrip()}\n\n{filled}" if body.strip() else filled
    except DomainError as error:
        gone = isinstance(error, NotFound) and raw.isdigit()
        message = "That canned reply is no longer available." if gone else error.message
        context = {"body": body, "message": f"{message} Your text is kept.", "case_id": case_id,
                   "macros": list(macros_for(request.user))}  # fmt: skip
        return render(request, "web/partials/macro_refused.html", context, status=error.status)
    return render(request, "web/partials/composer_body.html", {"body": body})


@require_GET
@staff_view
def attachment(request: StaffRequest, link_id: int) -> HttpResponseBase:
    """A file from a message, only to someone who may see the case (and never inline)."""
    link = MessageAttachment.objects.select_related("attachment", "message").filter(pk=link_id).first()
    if link is None:
        raise Http404
    case = access_case(request.user, link.message.case_id)
    if not messages_visible_to(request.user, case).filter(pk=link.message_id).exists():
        raise Http404
    path = attachments_root() / link.attachment.relative_path
    if not path.exists():
        raise Http404
    # names and types from outside go into headers: cleaned when stored (ADR 0076), and here for older rows
    name = safe_filename(link.filename)
    return FileResponse(path.open("rb"), as_attachment=True, filename=name,
                        content_type=safe_content_type(link.attachment.content_type, name))  # fmt: skip
