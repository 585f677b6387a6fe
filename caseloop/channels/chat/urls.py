from django.urls import path

from caseloop.channels.chat import views

app_name = "chat_channel"

urlpatterns = [
    # the widget on other websites
    path("widget.js", views.widget_js, name="widget_js"),
    path("widget.css", views.widget_css, name="widget_css"),
    path("api/<str:key>/", views.widget_status, name="api_status"),
    path("api/<str:key>/chats/", views.chat_start, name="api_start"),
    path("api/<str:key>/offline/", views.offline, name="api_offline"),
    path("api/<str:key>/chat/", views.chat_detail, name="api_chat"),
    path("api/<str:key>/chat/messages/", views.chat_message, name="api_message"),
    path("api/<str:key>/chat/end/", views.chat_end, name="api_end"),
    path("api/<str:key>/chat/stream/", views.chat_stream, name="api_stream"),
    # reps
    path("", views.queue, name="queue"),
    path("cases/<int:case_id>/", views.case_panel, name="case_panel"),
    path("cases/<int:case_id>/end/", views.case_end, name="case_end"),
    # administrators
    path("widgets/", views.widgets, name="widgets"),
    path("widgets/<int:widget_id>/", views.widget_edit, name="widget"),
]
