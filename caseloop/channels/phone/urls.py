from django.urls import path

from caseloop.channels.phone import views

app_name = "phone_channel"

urlpatterns = [
    # the provider's webhooks (signed)
    path("twilio/voice/", views.voice, name="voice"),
    path("twilio/menu/<int:version_id>/<slug:menu>/", views.menu, name="menu"),
    path("twilio/dial/", views.dial, name="dial"),
    path("twilio/status/", views.status, name="status"),
    path("twilio/recording/", views.recording, name="recording"),
    # administrators: menus and lines
    path("ivr/", views.ivr_home, name="ivr_home"),
    path("ivr/<int:flow_id>/", views.ivr_flow, name="ivr_flow"),
    # administrators: the provider's requests as kept, failed ones to retry
    path("webhooks/", views.webhook_requests, name="webhooks"),
    path("webhooks/<int:delivery_id>/retry/", views.webhook_retry, name="webhook_retry"),
    # the case page's calls panel
    path("cases/<int:case_id>/calls/", views.case_calls, name="case_calls"),
]
