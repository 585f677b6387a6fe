"""Search from the header box: a case number, cases and messages, contacts and assets."""

from __future__ import annotations

from django.http import HttpResponseBase
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from caseloop.cases.models import Case
from caseloop.cases.search import MAX_QUERY_LENGTH
from caseloop.cases.search import search as search_cases
from caseloop.cases.selectors import cases_visible_to, parse_case_number
from caseloop.core.errors import DomainError, Invalid
from caseloop.customers.selectors import find_assets, find_contacts
from caseloop.web.access import StaffRequest, staff_view
from caseloop.web.htmx import render_page


@require_GET
@staff_view
def search(request: StaffRequest) -> HttpResponseBase:
    query = request.GET.get("q", "").strip()
    actor = request.user
    context: dict[str, object] = {"q": query, "hits": [], "contacts": [], "assets": [], "error": None}
    if len(query) > MAX_QUERY_LENGTH:
        # the boxes take at most this many characters; a longer one (a pasted text, a crafted link) is not
        # searched at all, and the page shows the start of it to shorten
        context.update(q=query[:MAX_QUERY_LENGTH], too_long=True, error=Invalid(
            f"A search is at most {MAX_QUERY_LENGTH} characters; this one has {len(query):,}. Shorten it and "
            "search again.", field="q"))  # fmt: skip
        return render_page(request, page="web/search.html", partial="web/partials/search_results.html",
                           context=context, status=400)  # fmt: skip
    if query:
        number = parse_case_number(query)
        if number is not None and cases_visible_to(actor).filter(pk=number).exists():
            return redirect("web:case", case_id=number)  # a case number goes straight to the case
        try:
            hits = search_cases(query, visible_cases=None if actor.is_staff_member else cases_visible_to(actor),
                                include_notes=actor.is_staff_member, limit=30)  # fmt: skip
        except DomainError as error:
            context["error"] = error
            hits = []
        cases = Case.objects.select_related("requester", "assignee").in_bulk([h.case_id for h in hits])
        context["hits"] = [{"hit": h, "case": cases[h.case_id]} for h in hits if h.case_id in cases]
        context["contacts"] = find_contacts(actor, query, limit=8)
        context["assets"] = find_assets(actor, query, limit=8)
    return render_page(request, page="web/search.html", partial="web/partials/search_results.html", context=context)
