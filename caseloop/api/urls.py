from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path

from caseloop.api.main import api
from caseloop.api.problems import problem_response


def unknown_route(request: HttpRequest, rest: str) -> HttpResponse:
    """Anything under /api/v1/ that no route matches: a problem, not the web UI's HTML 404."""
    return problem_response(status=404, code="not_found", detail="There is no such API route.")


urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>.*)$", unknown_route),
]
