"""The live chat channel's pages.

For the widget on other websites (no session, no CSRF: cross-origin JSON with
the chat's token in `X-Chat-Token`, checked against the widget's allowed
origins on every request, preflight included):

    GET  /chat/widget.js, /chat/widget.css        the widget itself (static files)
    GET  /chat/api/<key>/                         greeting, and whether someone can chat now
    POST /chat/api/<key>/chats/                   start a chat {text, name?, email?, page?} → token
    POST /chat/api/<key>/offline/                 nobody there: {email, text, name?, page?}
    GET  /chat/api/<key>/chat/                    the chat so far (to resume after a reload)
    POST /chat/api/<key>/chat/messages/           {text, client_id?}
    POST /chat/api/<key>/chat/end/
    GET  /chat/api/<key>/chat/stream/?token=&after=   server-sent events (EventSource cannot send headers)

For reps: the chat queue (/chat/), the case page's chat panel, and the widget
set-up for administrators (/chat/widgets/).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caseloop.cases.actions import update_case
from caseloop.cases.selectors import access_case
from caseloop.channels.chat.actions import (
    Visitor,
    WidgetInput,
    create_widget,
    end_chat,
    keep_available,
    leave_offline_message,
    set_away,
    start_chat,
    update_widget,
    visitor_says,
)
from caseloop.channels.chat.choices import ChatState, EndedBy
from caseloop.channels.chat.errors import ChatError, ChatErrorCode
from caseloop.channels.chat.hours import BadHours, format_hours, parse_hours
from caseloop.channels.chat.models import Chat, ChatWidget
from caseloop.channels.chat.origins import is_allowed, normalise_origin, origin_of_url
from caseloop.channels.chat.selectors import (
    access_widget,
    chat_by_token,
    chat_of_case,
    is_available,
    is_taking_chats,
    latest_message_id,
    open_chats,
    replies_not_delivered,
    visitor_messages,
    widget_by_key,
    widgets_for_admin,
)
from caseloop.channels.chat.stream import events
from caseloop.channels.staff_pages import StaffRequest, admin_page, conversation, is_htmx, staff_page
from caseloop.core import clock, strictjson
from caseloop.core.clientaddr import client_address
from caseloop.core.errors import DomainError, Invalid
from caseloop.identity.selectors import teams

MAX_BODY = 16 * 1024
ALLOWED_HEADERS = "Content-Type, X-Chat-Token"
PREFLIGHT_MAX_AGE = 600
VISITOR_ONLINE_SECONDS = 30  # a visitor whose page listened this recently is "here"


# --- the widget's own files -----------------------------------------------------------------------
def _static_file(name: str, content_type: str) -> HttpResponse:
    found = finders.find(f"chat_channel/{name}")
    path = Path(found if isinstance(found, str) else "")
    response = HttpResponse(path.read_bytes(), content_type=content_type)
    response["Cache-Control"] = "public, max-age=300"
    # a host page that isolates itself (COEP require-corp) may still load our script and style
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_GET
def widget_js(request: HttpRequest) -> HttpResponse:
    return _static_file("widget.js", "text/javascript; charset=utf-8")


@require_GET
def widget_css(request: HttpRequest) -> HttpResponse:
    return _static_file("widget.css", "text/css; charset=utf-8")


# --- the widget's API: origin checks and CORS --------------------------------------------------------
def request_origin(request: HttpRequest) -> str | None:
    """The page's origin: the Origin header, or (a same-origin GET may omit it) the Referer's origin."""
    raw = request.headers.get("Origin")
    if raw:
        return raw
    referer = request.headers.get("Referer", "")
    return origin_of_url(referer) if referer else None


def _problem(error: DomainError) -> JsonResponse:
    return JsonResponse({"code": str(error.code), "message": error.message, "field": error.field},
                        status=error.status)  # fmt: skip


def _cors(response: HttpResponseBase, origin: str) -> HttpResponseBase:
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


WidgetView = Callable[..., HttpResponseBase]


def widget_api(*methods: str) -> Callable[[WidgetView], Callable[..., HttpResponseBase]]:
    """A widget endpoint: known widget, page origin on its list (every method, OPTIONS included), CORS headers.

    A refused origin gets no CORS headers, so the page's script cannot even
    read the refusal.
    """

    def decorate(view: WidgetView) -> Callable[..., HttpResponseBase]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, key: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                widget = widget_by_key(key)
            except ChatError as error:
                return _problem(error)
            origin = request_origin(request)
            if origin is None or not is_allowed(origin, widget.allowed_origins):
                return _problem(ChatError(ChatErrorCode.ORIGIN_NOT_ALLOWED,
                                          "This website may not use this chat widget.", status=403))  # fmt: skip
            origin = normalise_origin(origin)
            if request.method == "OPTIONS":
                preflight = HttpResponse(status=204)
                preflight["Access-Control-Allow-Methods"] = ", ".join([*methods, "OPTIONS"])
                preflight["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                preflight["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
                return _cors(preflight, origin)
            if request.method not in methods:
                return _cors(HttpResponseNotAllowed(methods), origin)
            try:
                response = view(request, widget, origin, *args, **kwargs)
            except DomainError as error:
                response = _problem(error)
            return _cors(response, origin)

        return wrapper

    return decorate


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY:
        raise ChatError(ChatErrorCode.TOO_LONG, "The request is too large.", status=413)
    try:
        data = strictjson.loads(request.body or b"{}")
    except strictjson.RefusedDocument as exc:
        raise Invalid(str(exc)) from exc
    except ValueError as exc:  # not UTF-8, or not JSON
        raise Invalid("The request body is not JSON.") from exc
    if not isinstance(data, dict):
        raise Invalid("The request body must be a JSON object.")
    return data


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    return value if isinstance(value, str) else ""


def _visitor(request: HttpRequest, origin: str, data: dict[str, Any]) -> Visitor:
    return Visitor(origin=origin, ip_address=client_address(request), page_url=_text(data, "page"),
                   name=_text(data, "name"), email=_text(data, "email"))  # fmt: skip


def _chat_json(chat: Chat) -> dict[str, Any]:
    return {"state": chat.state, "case": chat.case.number, "messages": visitor_messages(chat.case_id, after=0)}


def _token(request: HttpRequest) -> str:
    return request.headers.get("X-Chat-Token", "")


@widget_api("GET")
def widget_status(request: HttpRequest, widget: ChatWidget, origin: str) -> HttpResponseBase:
    return JsonResponse({"name": widget.name, "greeting": widget.greeting, "offline_text": widget.offline_text,
                         "available": is_available(widget)})  # fmt: skip


@widget_api("POST")
def chat_start(request: HttpRequest, widget: ChatWidget, origin: str) -> HttpResponseBase:
    data = _json_body(request)
    started = start_chat(widget=widget, visitor=_visitor(request, origin, data), text=_text(data, "text"))
    return JsonResponse({"token": started.token, **_chat_json(started.chat)}, status=201)


@widget_api("POST")
def offline(request: HttpRequest, widget: ChatWidget, origin: str) -> HttpResponseBase:
    data = _json_body(request)
    chat = leave_offline_message(widget=widget, visitor=_visitor(request, origin, data), text=_text(data, "text"))
    return JsonResponse({"email": chat.visitor_email}, status=201)


@widget_api("GET")
def chat_detail(request: HttpRequest, widget: ChatWidget, origin: str) -> HttpResponseBase:
    return JsonResponse(_chat_json(chat_by_token(widget, _token(request))))


@widget_api("POST")
def chat_message(request: HttpRequest, widget: ChatWidget, origin: str) -> HttpResponseBase:
    chat = chat_by_token(widget, _token(request))
    data = _json_body(request)
    message = visitor_says(chat=chat, text=_text(data, "text"), client_id=_text(data, "client_id"))
    row = visitor_messages(chat.case_id, after=message.pk - 1, limit=1)
    return JsonResponse(row[0] if row else {"id": message.pk}, status=201)


@widget_api("POST")
def chat_end(request: HttpRequest, widget: ChatWidget, origin: str) -> HttpResponseBase:
    chat = end_chat(chat=chat_by_token(widget, _token(request)), by=EndedBy.VISITOR)
    return JsonResponse({"state": chat.state})


def _whole_number(raw: str) -> int | None:
    """`raw` as an id when it is plain ASCII digits, else None (str.isdigit() also takes "²", which int() refuses)."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def _after(request: HttpRequest) -> int:
    """Where the stream resumes: the newer of `after=` and the browser's Last-Event-ID."""
    # either one is ignored unless it is plain digits
    values = [_whole_number(request.GET.get("after", "")), _whole_number(request.headers.get("Last-Event-ID", ""))]
    return max([v for v in values if v is not None] or [0])


@widget_api("GET")
def chat_stream(request: HttpRequest, widget: ChatWidget, origin: str) -> HttpResponseBase:
    chat = chat_by_token(widget, request.GET.get("token", ""))
    response = StreamingHttpResponse(events(chat_id=chat.pk, case_id=chat.case_id, after=_after(request)),
                                     content_type="text/event-stream; charset=utf-8")  # fmt: skip
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


# --- reps: the chat queue and the case page's chat panel ----------------------------------------------
@require_http_methods(["GET", "POST"])
@staff_page
def queue(request: StaffRequest) -> HttpResponseBase:
    """Open chats, those waiting for an answer first, and whether the rep is taking chats.

    A GET only shows (ADR 0076: opening the page by GET used to make the rep
    available, so a link prefetch, a restored tab or another site's image tag
    could). Every change is a POST with CSRF: `away` "0" (*Take chats*) or "1"
    (*Take no new chats*); `take` (a chat id) assigns its case to the rep and
    opens it; `poll` is the open page's refresh every 5 s, which keeps a rep who
    is taking chats available and answers the rows.
    """
    if request.method == "POST":
        if "away" in request.POST:
            set_away(actor=request.user, away=request.POST["away"] == "1")
            return redirect("chat_channel:queue")
        if "poll" in request.POST:
            keep_available(actor=request.user)
            return render(request, "chat_channel/partials/queue_rows.html", _queue_context(request))
        raw = request.POST.get("take", "")
        chat_pk = _whole_number(raw)
        chat = Chat.objects.filter(pk=chat_pk).first() if chat_pk is not None else None
        if chat is None:
            raise Invalid("That chat does not exist.")
        case = access_case(request.user, chat.case_id)
        update_case(actor=request.user, case=case, assignee=request.user)
        return redirect("web:case", case_id=case.pk)
    template = "chat_channel/partials/queue_rows.html" if is_htmx(request) else "chat_channel/queue.html"
    return render(request, template, _queue_context(request))


def _queue_context(request: StaffRequest) -> dict[str, Any]:
    return {"rows": open_chats(request.user), "taking": is_taking_chats(request.user)}


def _panel_context(request: StaffRequest, case_id: int) -> dict[str, Any]:
    case = access_case(request.user, case_id)
    chat = chat_of_case(request.user, case)
    now = clock.now()
    online = (chat is not None and chat.state == ChatState.OPEN and chat.visitor_seen_at is not None
              and (now - chat.visitor_seen_at).total_seconds() < VISITOR_ONLINE_SECONDS)  # fmt: skip
    waiting = replies_not_delivered(chat) if chat is not None and chat.state == ChatState.OPEN else 0
    return {"case": case, "chat": chat, "visitor_online": online, "latest": latest_message_id(case),
            "not_delivered": waiting}  # fmt: skip


@require_http_methods(["GET", "POST"])
@staff_page
def case_panel(request: StaffRequest, case_id: int) -> HttpResponseBase:
    """The chat panel of a chat case. A GET only shows it; the open panel polls it every 2 s by POST
    (with CSRF), which also keeps a rep who is taking chats available (`keep_available`, ADR 0076).
    When the conversation has grown since `after`, the answer carries the new conversation too
    (swapped out of band), and the timeline is told to refresh."""
    context = _panel_context(request, case_id)
    if request.method == "POST" and context["chat"] is not None and context["chat"].state == ChatState.OPEN:
        keep_available(actor=request.user)
    after = _whole_number(request.GET.get("after", ""))
    grown = after is not None and context["latest"] > after
    if grown:
        context.update(conversation(request.user, context["case"]))
    response = render(request, "chat_channel/partials/case_panel.html", {**context, "grown": grown})
    if grown:
        response["HX-Trigger"] = "case-changed"
    return response


@require_POST
@staff_page
def case_end(request: StaffRequest, case_id: int) -> HttpResponseBase:
    context = _panel_context(request, case_id)
    if context["chat"] is None:
        raise Invalid("This case has no chat.")
    end_chat(chat=context["chat"], by=EndedBy.AGENT, actor=request.user)
    if not is_htmx(request):
        return redirect("web:case", case_id=case_id)
    response = render(request, "chat_channel/partials/case_panel.html", _panel_context(request, case_id))
    response["HX-Trigger"] = "case-changed"
    return response


# --- administrators: widgets -----------------------------------------------------------------------
def _widget_input(request: HttpRequest) -> WidgetInput:
    data = request.POST
    team = next((t for t in teams() if str(t.pk) == data.get("team", "")), None)
    try:
        hours = parse_hours(data.get("hours", ""))
    except BadHours as exc:
        raise ChatError(ChatErrorCode.BAD_HOURS, str(exc), field="hours") from exc
    return WidgetInput(name=data.get("name", ""), allowed_origins=data.get("allowed_origins", "").split(),
                       team=team, greeting=data.get("greeting", ""), offline_text=data.get("offline_text", ""),
                       hours=hours, time_zone=data.get("time_zone", "UTC").strip() or "UTC",
                       active=data.get("active") == "on")  # fmt: skip


@require_http_methods(["GET", "POST"])
@admin_page
def widgets(request: StaffRequest) -> HttpResponseBase:
    error: DomainError | None = None
    if request.method == "POST":
        try:
            widget = create_widget(actor=request.user, data=_widget_input(request))
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, f"Widget {widget.name} created: paste its script tag into your website.")
            return redirect("chat_channel:widget", widget_id=widget.pk)
    context = {"widgets": widgets_for_admin(request.user), "teams": teams(), "error": error, "form": request.POST}
    return render(request, "chat_channel/widgets.html", context, status=error.status if error else 200)


@require_http_methods(["GET", "POST"])
@admin_page
def widget_edit(request: StaffRequest, widget_id: int) -> HttpResponseBase:
    widget = access_widget(request.user, widget_id)
    error: DomainError | None = None
    if request.method == "POST":
        try:
            update_widget(actor=request.user, widget=widget, data=_widget_input(request))
        except DomainError as exc:
            error = exc
            widget.refresh_from_db()
        else:
            messages.success(request, "Saved.")
            return redirect("chat_channel:widget", widget_id=widget.pk)
    script_url = settings.SITE_URL.rstrip("/") + reverse("chat_channel:widget_js")
    context = {"widget": widget, "teams": teams(), "error": error, "hours_text": format_hours(widget.hours),
               "origins_text": "\n".join(widget.allowed_origins), "script_url": script_url,
               "available": is_available(widget)}  # fmt: skip
    return render(request, "chat_channel/widget.html", context, status=error.status if error else 200)
