from django.urls import path

from caseloop.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/<str:token>/", views.confirm, name="confirm"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("cases/new/", views.new_case, name="new_case"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("cases/<int:case_id>/reply/", views.post_reply, name="reply"),
    path("files/<int:link_id>/", views.attachment, name="attachment"),
    path("places/", views.places, name="places"),
    path("places/<int:site_id>/", views.site_detail, name="site"),
    path("equipment/<int:asset_id>/", views.asset_detail, name="asset"),
]
