"""The custom fields every case carries: the list, and a new one defined (administrators)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from caseloop.cases.actions import create_custom_field
from caseloop.cases.choices import CustomFieldType
from caseloop.cases.models import CustomFieldDefinition
from caseloop.core.errors import DomainError
from caseloop.identity.access import StaffRequest, manager_page
from caseloop.identity.choices import Role


class CustomFieldForm(forms.Form):
    key = forms.CharField(max_length=50, help_text="Lower-case letters, digits and _, starting with a letter; "
                          "how the API names the field. It cannot change later.")  # fmt: skip
    label = forms.CharField(max_length=100)
    field_type = forms.ChoiceField(label="Type", choices=CustomFieldType.choices)
    choices = forms.CharField(required=False, max_length=10_100, widget=forms.Textarea(attrs={"rows": 4}),
                              help_text="For a choice field: one choice per line.")  # fmt: skip
    required = forms.BooleanField(required=False, label="Required on new cases")
    help_text = forms.CharField(required=False, max_length=300, help_text="Shown under the field on the case page.")


@require_http_methods(["GET", "POST"])
def _custom_field_list(request: StaffRequest) -> HttpResponseBase:
    """Managers read the definitions; `create_custom_field` lets only administrators add one."""
    form = CustomFieldForm(request.POST or None)
    error: DomainError | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        choices = [line.strip() for line in data["choices"].splitlines() if line.strip()]
        try:
            definition = create_custom_field(
                actor=request.user, key=data["key"], label=data["label"],
                field_type=CustomFieldType(data["field_type"]), choices=choices, required=data["required"],
                help_text=data["help_text"],
            )  # fmt: skip
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, f"Added the field “{definition.label}” to every case.")
            return redirect("web:custom_fields")
    context = {
        "definitions": list(CustomFieldDefinition.objects.order_by("pk")),
        "form": form,
        "error": error,
        "error_beside": error.field if error is not None and error.field in form.fields else None,
        "can_create": request.user.role == Role.ADMIN,
    }
    status = error.status if error else 422 if form.errors else 200
    return render(request, "web/custom_fields.html", context, status=status)


_REFUSAL = "Custom fields are for service managers and administrators."
custom_field_list = manager_page(_custom_field_list, refusal=_REFUSAL)
