from django.urls import path

from caseloop.pricing import views

app_name = "pricing"

urlpatterns = [
    path("", views.public_prices, name="public"),
    path("book/", views.book, name="book"),
    path("book/<int:item_id>/", views.item_page, name="item"),
    path("book/<int:item_id>/prices/", views.publish, name="publish"),
    path("cases/<int:case_id>/quotes/", views.case_panel, name="case_panel"),
    path("quotes/<int:quote_id>/<str:outcome>/", views.settle, name="settle"),
]
