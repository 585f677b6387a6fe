from django.urls import path

from caseloop.feedback import views

app_name = "feedback"

urlpatterns = [
    # the customer's pages: the signed token is the permission
    path("s/<str:token>/", views.survey_page, name="survey"),
    path("s/<str:token>/<str:choice>/", views.survey_click, name="survey_click"),
    path("f/<str:token>/<str:answer>/", views.follow_up_answer, name="follow_up_answer"),
    # staff
    path("", views.work, name="work"),
    path("follow-ups/<int:follow_up_id>/call/", views.record_call, name="record_call"),
    path("thank-yous/<int:thank_you_id>/send/", views.send_thank_you, name="send_thank_you"),
    path("thank-yous/<int:thank_you_id>/phone/", views.thanked_by_phone, name="thanked_by_phone"),
    path("notices/read/", views.notices_read, name="notices_read"),
    path("recognition/", views.recognition, name="recognition"),
    path("people/<int:user_id>/", views.person_kudos, name="person"),
    path("rules/", views.rules, name="rules"),
    path("rules/survey/<int:rule_id>/active/", views.survey_rule_active, name="survey_rule_active"),
    path("rules/follow-up/<int:rule_id>/active/", views.follow_up_rule_active, name="follow_up_rule_active"),
]
