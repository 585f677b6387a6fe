from django.urls import path

from caseloop.sla import views

app_name = "sla"

urlpatterns = [
    path("", views.compliance, name="compliance"),
    path("cases/<int:case_id>/", views.case_panel, name="case_panel"),
]
