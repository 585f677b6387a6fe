from django.urls import path

from caseloop.channels.webform import views

app_name = "webform"

urlpatterns = [
    path("", views.contact, name="contact"),
    path("sent/", views.sent, name="sent"),
]
