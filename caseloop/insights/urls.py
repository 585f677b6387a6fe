from django.urls import path

from caseloop.insights import views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cases/", views.cases, name="cases"),
    path("refresh/", views.refresh, name="refresh"),
]
