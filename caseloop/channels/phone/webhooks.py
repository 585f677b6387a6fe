"""The provider's webhooks (calls and texts): verified, kept as they arrived, processed, replayed.

Every webhook view is wrapped in one of two decorators:

- `provider_webhook`: a callback whose answer the provider does not act on
  (a text arrived, a text's or a call's status changed, a recording is
  ready). If processing raises, the provider is answered a plain 500 and the
  kept request can be replayed (`replay_webhook`, `caseloop webhooks retry`).
- `call_webhook`: a step of a live call (the call comes in, a key pressed,
  the put-through ended). Its answer is what the caller hears next, so a
  failure answers TwiML that apologises and hangs up (silence is worse), and
  the request is never replayed: the call it belonged to is over.

Both refuse a request whose signature is missing or wrong (403, logged,
nothing kept: it is forged). A signed one is first kept, committed, as a
`WebhookDelivery` (ADR 0075); the view then runs in a transaction of its own,
so a failure rolls its writes back and leaves the row `failed` with the error,
never a lost text.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseForbidden, QueryDict
from django.urls import Resolver404, ResolverMatch, resolve
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from caseloop.channels.phone.actions import (
    begin_webhook_retry,
    keep_webhook,
    mark_webhook_failed,
    mark_webhook_processed,
)
from caseloop.channels.phone.errors import PhoneError, PhoneErrorCode
from caseloop.channels.phone.models import WebhookDelivery
from caseloop.channels.phone.provider import (
    SIGNATURE_HEADER,
    TwiML,
    auth_token,
    form_params,
    is_valid_signature,
    signed_url_of,
)
from caseloop.core.errors import NotFound
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.identity.selectors import require_role

logger = logging.getLogger(__name__)

SORRY_FAILED = "Sorry, something went wrong on our side. Please call again later. Goodbye."

View = Callable[..., HttpResponseBase]

# the routed (outermost) view of each replayable webhook → the view itself, without the signature check
_REPLAYABLE: dict[Callable[..., HttpResponseBase], View] = {}


def _failed_callback() -> HttpResponse:
    # the provider's console shows the error; the request is kept for a replay
    return HttpResponse("The request was kept but could not be processed.", status=500, content_type="text/plain")


def _failed_call_step() -> HttpResponse:
    twiml = TwiML()
    twiml.say(SORRY_FAILED)
    twiml.hangup()
    return twiml.response()


def _form_without_nul(pairs: list[tuple[str, str]]) -> QueryDict:
    """The parameters as the view reads them: U+0000, which no column stores, as U+FFFD.

    A customer's text may hold one (a phone's garbled encoding); refusing the request, as every
    other form is refused (`RefuseNulMiddleware`), would lose the text. The kept row holds the
    parameters as they arrived.
    """
    return QueryDict(
        urlencode([(name.replace("\x00", "\ufffd"), value.replace("\x00", "\ufffd")) for name, value in pairs])
    )


def _signed(view: View, on_failure: Callable[[], HttpResponse], *, replayable: bool) -> View:
    @csrf_exempt
    @require_POST
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        signature = request.headers.get(SIGNATURE_HEADER, "")
        url = signed_url_of(request)
        params = form_params(request)
        if not is_valid_signature(auth_token=auth_token(), url=url, params=params, signature=signature):
            why = "no auth token configured" if not auth_token() else ("missing" if not signature else "wrong")
            logger.warning("refused a provider webhook to %s: signature %s", url, why)
            return HttpResponseForbidden("Invalid provider signature.", content_type="text/plain")
        match = request.resolver_match
        try:
            delivery = keep_webhook(endpoint=match.view_name if match else request.path, url=url,
                                    path=request.get_full_path_info(), params=params)  # fmt: skip
        except Exception:
            logger.exception("could not keep a provider webhook to %s; not processed", url)
            return on_failure()
        if any("\x00" in name or "\x00" in value for name, value in params):
            request.POST = _form_without_nul(params)  # type: ignore[assignment]  # the stubs' immutable QueryDict
        return _process(delivery, view, request, args, kwargs, on_failure)

    wrapper.accepts_nul = True  # type: ignore[attr-defined]  # see _form_without_nul; RefuseNulMiddleware reads it
    if replayable:
        _REPLAYABLE[wrapper] = view
    return wrapper


def _process(delivery: WebhookDelivery, view: View, request: HttpRequest, args: tuple[object, ...],
             kwargs: dict[str, object], on_failure: Callable[[], HttpResponse]) -> HttpResponseBase:  # fmt: skip
    """Run `view` in a transaction of its own and mark the kept request with the outcome."""
    try:
        with transaction.atomic():
            response = view(request, *args, **kwargs)
    except Http404:
        mark_webhook_processed(delivery_id=delivery.pk, response_status=404)  # an answer, not a failure
        raise
    except Exception as exc:
        # the view's transaction has rolled back; the kept row says why, in a transaction of its own
        logger.exception("provider webhook %s (kept as %s) failed", delivery.endpoint, delivery.pk)
        mark_webhook_failed(delivery_id=delivery.pk, error=exc)
        return on_failure()
    mark_webhook_processed(delivery_id=delivery.pk, response_status=response.status_code)
    return response


def provider_webhook(view: View) -> View:
    """A provider callback, processed only when signed (403 otherwise), kept first and replayable.

    CSRF does not apply (the provider holds no session); the signature is the authentication.
    """
    return _signed(view, _failed_callback, replayable=True)


def call_webhook(view: View) -> View:
    """A step of a live call: signed and kept like a callback, but a failure apologises and hangs up."""
    return _signed(view, _failed_call_step, replayable=False)


def _rebuilt_request(delivery: WebhookDelivery, path: str, query: str) -> HttpRequest:
    """The kept request as the view saw it: its path, query string and POST parameters (in order)."""
    request = HttpRequest()
    request.method = "POST"
    request.path = request.path_info = path
    request.GET = QueryDict(query)
    request.POST = _form_without_nul(delivery.pairs)
    return request


def _replayable_route(delivery: WebhookDelivery) -> tuple[ResolverMatch, View] | None:
    try:
        match = resolve(urlsplit(delivery.path).path)
    except Resolver404:  # a URL that no longer exists
        return None
    view = _REPLAYABLE.get(match.func)
    return (match, view) if view is not None else None


def is_replayable(delivery: WebhookDelivery) -> bool:
    """Whether `replay_webhook` can process this request again (a callback, not a step of a live call)."""
    return _replayable_route(delivery) is not None


def replay_webhook(*, actor: User | None, delivery_id: int) -> WebhookDelivery:
    """Process a kept request again (an administrator; None: the command line); the row says how it went.

    Only callbacks are replayed (a text in, a status, a recording); their
    processing is idempotent (a text is one message per MessageSid, a call is
    logged once, a status only moves forward), so replaying a processed one
    changes nothing. A step of a live call is refused.
    """
    require_role(actor, Role.ADMIN)
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound("Webhook request", delivery_id)
    route = _replayable_route(delivery)
    if route is None:
        raise PhoneError(PhoneErrorCode.WEBHOOK_NOT_REPLAYABLE,
                         f"Webhook request {delivery.pk} ({delivery.endpoint}) was a step of a live call, which "
                         "cannot be replayed: only text messages and call status and recording callbacks can.",
                         status=409)  # fmt: skip
    match, view = route
    delivery = begin_webhook_retry(actor=actor, delivery=delivery)
    parts = urlsplit(delivery.path)
    request = _rebuilt_request(delivery, parts.path, parts.query)
    request.resolver_match = match
    _process(delivery, view, request, match.args, match.kwargs, _failed_callback)
    delivery.refresh_from_db()
    return delivery
