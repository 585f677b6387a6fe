from django.urls import path

from caseloop.channels.email import views

app_name = "email_channel"

urlpatterns = [
    path("", views.quarantine, name="quarantine"),
    path("<int:inbound_id>/", views.inbound_detail, name="inbound"),
    path("<int:inbound_id>/reprocess/", views.reprocess, name="reprocess"),
]
