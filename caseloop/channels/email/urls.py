from django.urls import path

from caseloop.channels.email import views

app_name = "email_channel"

urlpatterns = [
    path("", views.quarantine, name="quarantine"),
    path("<int:inbound_id>/", views.inbound_detail, name="inbound"),
    path("<int:inbound_id>/reprocess/", views.reprocess, name="reprocess"),
    path("mailboxes/", views.mailboxes, name="mailboxes"),
    path("mailboxes/new/", views.mailbox_add, name="mailbox_add"),
    path("mailboxes/<int:mailbox_id>/", views.mailbox_edit, name="mailbox_edit"),
    path("mailboxes/<int:mailbox_id>/active/", views.mailbox_active, name="mailbox_active"),
]
