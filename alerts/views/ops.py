"""Ops console (public host, staff only): budgets and SLOs per tenant, the SLA report."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tenants.utils import tenant_context

from alerts.budgets.models import Budget
from alerts.budgets.selectors import budget_statuses
from alerts.budgets.services import budget_delete, budget_set
from alerts.slo.models import Slo, SloKind
from alerts.slo.selectors import sla_report_all_tenants, slo_statuses
from alerts.slo.services import slo_create, slo_delete
from core.db import tenant_connection
from core.exceptions import ApplicationError
from core.roles import staff_page
from core.views_helpers import form_errors_from, render_page
from tenants.models import Tenant


def _tenant(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(schema_name=slug).exclude(schema_name="public").first()
    if tenant is None:
        raise Http404
    return tenant


@staff_page
@require_GET
def policies_index(request: HttpRequest) -> HttpResponse:
    tenants = list(Tenant.objects.exclude(schema_name="public").order_by("schema_name"))
    return render_page(
        request, "alerts/ops_index.html", "alerts/ops_index.html", {"tenants": tenants}
    )


@staff_page
@require_http_methods(["GET", "POST"])
def tenant_policies(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = _tenant(slug)
    errors: dict[str, str] = {}
    data: dict[str, Any] = {"projection_tolerance_pct": 20, "window_days": 30}
    try:
        with tenant_context(tenant):
            if request.method == "POST":
                data = {
                    k: request.POST.get(k, "") for k in request.POST if k != "csrfmiddlewaretoken"
                }
                try:
                    if data.get("form") == "slo":
                        slo_create(data=data)
                        messages.success(request, "Objective added.")
                    else:
                        budget_set(
                            feature=data.get("feature", ""),
                            daily_usd=data.get("daily_usd") or None,
                            monthly_usd=data.get("monthly_usd") or None,
                            hard_cap=data.get("hard_cap") in ("on", "1"),
                            projection_tolerance_pct=data.get("projection_tolerance_pct") or 20,
                        )
                        messages.success(request, "Budget saved.")
                    return redirect("ops:alerts-tenant", slug=slug)
                except ApplicationError as exc:
                    errors = form_errors_from(exc)
            context = {
                "tenant": tenant,
                "budgets": budget_statuses(),
                "slos": slo_statuses(),
                "kinds": SloKind.choices,
                "data": data,
                "errors": errors,
            }
            return render_page(request, "alerts/ops_tenant.html", "alerts/ops_tenant.html", context)
    finally:
        tenant_connection().set_schema_to_public()


@staff_page
@require_POST
def policy_delete(request: HttpRequest, slug: str, kind: str, pk: str) -> HttpResponse:
    tenant = _tenant(slug)
    if not pk.isdigit() or len(pk) > 18:
        raise Http404
    try:
        with tenant_context(tenant):
            model: Any = Budget if kind == "budget" else Slo
            obj = model.objects.filter(pk=int(pk)).first()
            if obj is None:
                raise Http404
            if kind == "budget":
                budget_delete(budget=obj)
            else:
                slo_delete(slo=obj)
    finally:
        tenant_connection().set_schema_to_public()
    messages.success(request, "Deleted.")
    return redirect("ops:alerts-tenant", slug=slug)


@staff_page
@require_GET
def sla_report(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("month", "")
    error = ""
    today = datetime.now(tz=UTC).date()
    month = today.replace(day=1)
    if raw:
        try:
            parsed = date.fromisoformat(f"{raw}-01" if len(raw) == 7 else raw)
            month = parsed.replace(day=1)
        except ValueError:
            error = "Use YYYY-MM."
    lines = sla_report_all_tenants(month=month)
    context = {"lines": lines, "month": month, "error": error}
    return render_page(request, "alerts/ops_sla.html", "alerts/ops_sla.html", context)
