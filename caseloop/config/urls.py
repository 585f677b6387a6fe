from django.urls import include, path

from caseloop.api.urls import urlpatterns as api_urlpatterns

urlpatterns = [
    *api_urlpatterns,
    path("admin/email/", include("caseloop.channels.email.urls")),
    path("feedback/", include("caseloop.feedback.urls")),
    path("insights/", include("caseloop.insights.urls")),
    path("prices/", include("caseloop.pricing.urls")),
    path("promises/", include("caseloop.promises.urls")),
    path("policies/", include("caseloop.policies.urls")),
    path("sla/", include("caseloop.sla.urls")),
    path("contact/", include("caseloop.channels.webform.urls")),
    path("portal/", include("caseloop.portal.urls")),
    path("chat/", include("caseloop.channels.chat.urls")),
    path("phone/", include("caseloop.channels.phone.urls")),
    path("sms/", include("caseloop.channels.sms.urls")),
    path("", include("caseloop.web.urls")),
]

# an unknown address in the look of whoever asked (the workspace's or the portal's); Django's own handlers
# render 500.html and 400.html (caseloop/web/templates) with no context, so those stand alone
handler404 = "caseloop.web.views.errors.page_not_found"
