from django.urls import path

from caseloop.policies import views

app_name = "policies"

urlpatterns = [
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:approval_id>/decide/", views.decide, name="decide"),
    path("approvals/<int:approval_id>/withdraw/", views.withdraw, name="withdraw"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:rule_id>/active/", views.rule_active, name="rule_active"),
    path("limits/", views.limits, name="limits"),
    path("limits/<int:limit_id>/delete/", views.limit_delete, name="limit_delete"),
    path("review/", views.review, name="review"),
    path("cases/<int:case_id>/", views.case_panel, name="case_panel"),
    path("cases/<int:case_id>/status/", views.case_status, name="case_status"),
]
