"""The ops console on the public host: every tenant, created and suspended here."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ApplicationError
from core.roles import staff_page
from core.views_helpers import form_errors_from, form_field_errors, render_page
from tenants import selectors, services
from tenants.forms import TenantCreateForm
from tenants.models import TenantStatus
from tenants.services import tenant_base_url
from tenants.staff_handoff import staff_handoff_token_create


def _context(**extra: object) -> dict[str, object]:
    return {
        "tenants": selectors.tenants_list(),
        "create_form": extra.pop("create_form", TenantCreateForm()),
        **extra,
    }


@staff_page
@require_http_methods(["GET", "POST"])
def tenants(request: HttpRequest) -> HttpResponse:
    form = TenantCreateForm(request.POST or None)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if form.is_valid():
            try:
                tenant = services.tenant_create(
                    slug=form.cleaned_data["slug"],
                    name=form.cleaned_data["name"],
                    admin_email=form.cleaned_data["admin_email"] or None,
                )
            except ApplicationError as exc:
                errors = form_errors_from(exc)
                if (
                    "email" in errors
                ):  # the service names the user's field; the form calls it admin_email
                    errors["admin_email"] = errors.pop("email")
            else:
                messages.success(request, f"Tenant {tenant.name} was created.")
                form = TenantCreateForm()
        else:
            errors = form_field_errors(form)
    return render_page(
        request,
        "tenants/ops_tenants.html",
        "tenants/_ops_tenants.html",
        _context(create_form=form, errors=errors),
    )


@staff_page
@require_POST
def tenant_status(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = selectors.tenant_get_by_slug(slug=slug)
    status = str(request.POST.get("status", ""))
    errors: dict[str, str] = {}
    try:
        services.tenant_set_status(tenant=tenant, status=status)
    except ApplicationError as exc:
        errors = form_errors_from(exc)
    else:
        verb = "suspended" if status == TenantStatus.SUSPENDED else "reactivated"
        messages.success(request, f"{tenant.name} was {verb}.")
    return render_page(
        request, "tenants/ops_tenants.html", "tenants/_ops_tenants.html", _context(errors=errors)
    )


@staff_page
def tenant_open(request: HttpRequest, slug: str) -> HttpResponse:
    """Open a tenant's pages as staff: hand the login over to the tenant's host."""
    tenant = selectors.tenant_get_by_slug(slug=slug)
    token = staff_handoff_token_create(user=request.user, tenant_slug=tenant.schema_name)  # type: ignore[arg-type]
    next_path = request.GET.get("next", "/")
    if not next_path.startswith("/") or next_path.startswith("//"):
        next_path = "/"
    query = urlencode({"token": token, "next": next_path})
    return redirect(f"{tenant_base_url(request, tenant.schema_name)}/staff/enter?{query}")
