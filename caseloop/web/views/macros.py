"""Canned replies: list, add and remove the macros the composer offers."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBase
from django.shortcuts import redirect, render

from caseloop.cases.actions import create_macro, delete_macro
from caseloop.cases.macros import PLACEHOLDERS
from caseloop.cases.selectors import access_macro, macros_for
from caseloop.core.errors import DomainError
from caseloop.identity.choices import Role
from caseloop.web.access import StaffRequest, staff_view
from caseloop.web.forms import MacroForm


@staff_view
def macro_list(request: StaffRequest) -> HttpResponseBase:
    form = MacroForm(request.POST or None)
    error: DomainError | None = None
    if request.method == "POST" and form.is_valid():
        try:
            macro = create_macro(actor=request.user, name=form.cleaned_data["name"], body=form.cleaned_data["body"],
                                 shared=form.cleaned_data["shared"])  # fmt: skip
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, f"Saved the macro “{macro.name}”.")
            return redirect("web:macros")
    return render(request, "web/macros.html", {
        "macros": list(macros_for(request.user)),
        "form": form,
        "error": error,
        "placeholders": [f"{{{{ {name} }}}}" for name in PLACEHOLDERS],
        "can_share": request.user.role in (Role.MANAGER, Role.ADMIN),
    }, status=error.status if error else (422 if form.errors else 200))  # fmt: skip


@staff_view
def macro_delete(request: StaffRequest, macro_id: int) -> HttpResponseBase:
    if request.method != "POST":
        return redirect("web:macros")
    macro = access_macro(request.user, macro_id)
    delete_macro(actor=request.user, macro=macro)
    messages.success(request, f"Deleted the macro “{macro.name}”.")
    return redirect("web:macros")
