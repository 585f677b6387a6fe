"""Contact, organization, site and asset pages, each with its timeline."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from caseloop.cases.selectors import cases_visible_to
from caseloop.customers.models import SiteRelation
from caseloop.customers.selectors import (
    access_asset,
    access_contact,
    access_organization,
    access_site,
    assets_visible_to,
    contact_ids_for_history,
    contacts_visible_to,
    orders_visible_to,
    sites_visible_to,
)
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.selectors import timeline_page
from caseloop.web.access import StaffRequest, staff_view
from caseloop.web.htmx import render_page
from caseloop.web.panels import asset_histories, recent_cases

TIMELINE_PAGE = 25


def _timeline(request: HttpRequest, kind: SubjectKind, ids: list[int]) -> dict[str, Any]:
    before = request.GET.get("before", "")
    events = timeline_page(subject_kind=kind, subject_ids=ids, before_id=int(before) if before.isdigit() else None,
                           limit=TIMELINE_PAGE + 1)  # fmt: skip
    older = events[TIMELINE_PAGE - 1].pk if len(events) > TIMELINE_PAGE else None
    return {"events": events[:TIMELINE_PAGE], "older": older, "append": bool(before)}


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """The record page, or only the next page of its timeline for the "Older" button."""
    return render_page(request, page=template, partial="web/partials/timeline.html", context=context)


@require_GET
@staff_view
def contact_detail(request: StaffRequest, contact_id: int) -> HttpResponseBase:
    contact = access_contact(request.user, contact_id)
    if contact.merged_into_id is not None:
        return redirect("web:contact", contact_id=contact.merged_into_id)  # a merged contact lives on in another
    ids = contact_ids_for_history(contact)
    relations = SiteRelation.objects.filter(contact_id__in=ids).select_related("site").order_by("-valid_from")
    return _page(request, "web/contact.html", {
        "contact": contact,
        "identities": list(contact.identities.order_by("kind", "-is_primary", "value")),
        "cases": recent_cases(cases_visible_to(request.user).filter(requester_id__in=ids)),
        "orders": list(orders_visible_to(request.user).filter(contact_id__in=ids).order_by("-ordered_at")[:20]),
        "relations": list(relations),
        "timeline": _timeline(request, SubjectKind.CONTACT, ids),
        "timeline_url": request.path,
    })  # fmt: skip


@require_GET
@staff_view
def organization_detail(request: StaffRequest, organization_id: int) -> HttpResponseBase:
    organization = access_organization(request.user, organization_id)
    actor = request.user
    return _page(request, "web/organization.html", {
        "organization": organization,
        "contacts": list(contacts_visible_to(actor).filter(organization=organization, merged_into__isnull=True)
                         .order_by("name")[:50]),
        "sites": list(sites_visible_to(actor).filter(organization=organization).order_by("name", "id")[:50]),
        "cases": recent_cases(cases_visible_to(actor).filter(organization=organization)),
        "timeline": _timeline(request, SubjectKind.ORGANIZATION, [organization.pk]),
        "timeline_url": request.path,
    })  # fmt: skip


@require_GET
@staff_view
def site_detail(request: StaffRequest, site_id: int) -> HttpResponseBase:
    site = access_site(request.user, site_id)
    actor = request.user
    assets = list(assets_visible_to(actor).filter(site=site).order_by("name", "id")[:50])
    return _page(request, "web/site.html", {
        "site": site,
        # everyone ever tied to the site, current first: earlier owners stay in its history
        "relations": list(site.relations.select_related("contact").order_by("valid_to", "-valid_from")),
        "assets": asset_histories(actor, assets),
        "cases": recent_cases(cases_visible_to(actor).filter(site=site)),
        "timeline": _timeline(request, SubjectKind.SITE, [site.pk]),
        "timeline_url": request.path,
    })  # fmt: skip


@require_GET
@staff_view
def asset_detail(request: StaffRequest, asset_id: int) -> HttpResponseBase:
    asset = access_asset(request.user, asset_id)
    actor = request.user
    current: set[int] = set()
    if asset.site_id is not None:
        current = set(SiteRelation.objects.filter(site_id=asset.site_id, valid_to__isnull=True)
                      .values_list("contact_id", flat=True))  # fmt: skip
    # the whole service history of the asset, whoever owned it at the time
    cases = recent_cases(cases_visible_to(actor).filter(asset=asset), limit=100)
    return _page(request, "web/asset.html", {
        "asset": asset,
        "attributes": sorted(asset.attributes.items()),
        "cases": cases,
        "earlier_owner_case_ids": {c.pk for c in cases if current and c.requester_id not in current},
        "timeline": _timeline(request, SubjectKind.ASSET, [asset.pk]),
        "timeline_url": request.path,
    })  # fmt: skip
