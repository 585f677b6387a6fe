from django.urls import path

from caseloop.sla import views

app_name = "sla"

urlpatterns = [
    path("", views.compliance, name="compliance"),
    path("calendars/", views.calendars, name="calendars"),
    path("calendars/<int:calendar_id>/", views.calendar_edit, name="calendar_edit"),
    path("policies/", views.policies, name="policies"),
    path("policies/<int:policy_id>/", views.policy_edit, name="policy_edit"),
    path("cases/<int:case_id>/", views.case_panel, name="case_panel"),
]
