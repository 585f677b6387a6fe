from django.urls import include, path

from caseloop.api.urls import urlpatterns as api_urlpatterns

urlpatterns = [
    *api_urlpatterns,
    path("", include("caseloop.web.urls")),
]
