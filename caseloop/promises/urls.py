from django.urls import path

from caseloop.promises import views

app_name = "promises"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("kept-rate/", views.kept_rate, name="kept_rate"),
    path("notices/read/", views.notices_read, name="notices_read"),
    path("cases/<int:case_id>/", views.case_panel, name="case_panel"),
    path("<int:promise_id>/kept/", views.keep, name="keep"),
    path("<int:promise_id>/release/", views.release, name="release"),
]
