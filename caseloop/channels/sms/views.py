"""The provider's SMS webhooks: a text arrived, or a text we sent changed state.

Both are signed (`provider_webhook` answers 403 to anything else), kept as
they arrived before they are processed (a failure leaves the request to
replay: `caseloop webhooks retry`), and both answer with empty TwiML: replies
are sent later through the REST API, when a rep writes them.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from caseloop.channels.phone.provider import empty_twiml, param, whole_number
from caseloop.channels.phone.webhooks import provider_webhook
from caseloop.channels.sms.actions import receive_sms, record_status


@provider_webhook
def inbound(request: HttpRequest) -> HttpResponse:
    data = request.POST
    sid = param(data, "MessageSid") or param(data, "SmsSid")
    if not sid:
        return HttpResponseBadRequest("MessageSid is missing.", content_type="text/plain")
    count = whole_number(param(data, "NumMedia")) or 0
    media = [param(data, f"MediaUrl{i}") for i in range(min(count, 10)) if param(data, f"MediaUrl{i}")]
    receive_sms(sid=sid, from_number=param(data, "From"),
                to_number=param(data, "To"), body=data.get("Body", ""), media_urls=media,
                opt_out_type=param(data, "OptOutType"))  # fmt: skip
    return empty_twiml()


@provider_webhook
def status(request: HttpRequest) -> HttpResponse:
    data = request.POST
    record_status(sid=param(data, "MessageSid") or param(data, "SmsSid"),
                  status=param(data, "MessageStatus") or param(data, "SmsStatus"),
                  error_code=param(data, "ErrorCode"))  # fmt: skip
    return empty_twiml()
