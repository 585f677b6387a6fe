from django.urls import path

from caseloop.channels.sms import views

app_name = "sms_channel"

urlpatterns = [
    path("twilio/inbound/", views.inbound, name="inbound"),
    path("twilio/status/", views.status, name="status"),
]
