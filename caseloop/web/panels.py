"""What the workspace shows beside a case and on record pages, each in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from caseloop.cases.models import Case
from caseloop.cases.selectors import cases_visible_to
from caseloop.customers.models import Asset, Contact, Order, Site, SiteRelation
from caseloop.customers.selectors import (
    assets_visible_to,
    contact_ids_for_history,
    current_relations,
    orders_visible_to,
)
from caseloop.identity.models import User


@dataclass(slots=True)
class AssetHistory:
    asset: Asset
    cases: list[Case] = field(default_factory=list)  # newest first, any requester (earlier owners too)


@dataclass(slots=True)
class CustomerPanel:
    contact: Contact
    other_cases: list[Case]
    orders: list[Order]
    site: Site | None
    people_at_site: list[SiteRelation]
    assets: list[AssetHistory]


def asset_histories(actor: User, assets: list[Asset], *, per_asset: int = 3) -> list[AssetHistory]:
    """Each asset with its latest cases, whoever asked: one query for all of them."""
    histories = [AssetHistory(asset=a) for a in assets]
    if not assets:
        return histories
    ranked = (
        cases_visible_to(actor)
        .filter(asset_id__in=[a.pk for a in assets])
        .annotate(row=Window(RowNumber(), partition_by=[F("asset_id")], order_by=F("id").desc()))
        .filter(row__lte=per_asset)
        .select_related("requester")
        .order_by("asset_id", "-id")
    )
    by_asset: dict[int, list[Case]] = defaultdict(list)
    for case in ranked:
        assert case.asset_id is not None
        by_asset[case.asset_id].append(case)
    for history in histories:
        history.cases = by_asset.get(history.asset.pk, [])
    return histories


def customer_panel(actor: User, case: Case) -> CustomerPanel:
    """The requester, their other cases and orders, and the site with its assets' history."""
    contact = case.requester
    history_ids = contact_ids_for_history(contact)
    other_cases = list(
        cases_visible_to(actor).filter(requester_id__in=history_ids).exclude(pk=case.pk).order_by("-id")[:6]
    )
    orders = list(orders_visible_to(actor).filter(contact_id__in=history_ids).order_by("-ordered_at")[:5])
    site = case.site
    relations: list[SiteRelation] = []
    if site is None:
        # no site on the case: the one the requester lives at now, if any
        relation = SiteRelation.objects.filter(contact=contact, valid_to__isnull=True).select_related("site").first()
        site = relation.site if relation else None
    assets: list[AssetHistory] = []
    if site is not None:
        relations = list(current_relations(site))
        site_assets = list(assets_visible_to(actor).filter(site=site).order_by("name", "id")[:10])
        if case.asset is not None and case.asset not in site_assets:
            site_assets.insert(0, case.asset)
        assets = asset_histories(actor, site_assets)
    elif case.asset is not None:
        assets = asset_histories(actor, [case.asset])
    return CustomerPanel(contact=contact, other_cases=other_cases, orders=orders, site=site,
                         people_at_site=relations, assets=assets)  # fmt: skip


def recent_cases(qs: QuerySet[Case], *, limit: int = 25) -> list[Case]:
    return list(qs.select_related("requester", "assignee").order_by("-id")[:limit])
