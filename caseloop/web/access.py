"""Who may use the workspace, and how refusals look in it.

The decorators live in `caseloop.identity.access`, low enough for the domains
below the workspace (promises, policies, SLAs, the price book) to wrap their
own staff pages in the same ones; the workspace knows them by these names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec

from django.http import HttpResponseBase

from caseloop.identity.access import StaffRequest, View, manager_page, staff_page
from caseloop.identity.access import error_page as error_response

P = ParamSpec("P")

__all__ = ["StaffRequest", "error_response", "manager_view", "staff_view"]

staff_view = staff_page


def manager_view(view: Callable[Concatenate[StaffRequest, P], HttpResponseBase]) -> View[P]:
    """A staff view for managers and administrators only."""
    return manager_page(view, refusal="The team overview is for service managers and administrators.")
