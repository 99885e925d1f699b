"""The tenant's billing page (admins; staff read-only): month so far, forecast,
statements and downloads. Every lookup is scoped to the host's tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing.exports.services import cost_lines_export, statement_export
from billing.exports.writers import FORMATS
from billing.forms import PeriodForm, parse_month
from billing.ratecards.selectors import rate_card_in_force
from billing.statements.compute import (
    BREAKDOWNS,
    chargeback_compute,
    month_bounds,
    month_to_date,
)
from billing.statements.selectors import statement_breakdown, statement_get, statements_of
from billing.stripe.models import BillingAccount, SlaCredit
from billing.views.common import export_response
from core.exceptions import ApplicationError
from core.roles import tenant_page
from core.views_helpers import form_field_errors, render_page
from tenants.models import Tenant


def _tenant(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


def _by(request: HttpRequest) -> str:
    by = request.GET.get("by", "feature")
    return by if by in BREAKDOWNS else "feature"


def _period_query(period: PeriodForm | None) -> str:
    if period is None or not period.is_valid():
        return ""
    data = period.cleaned_data
    return urlencode({"start": data["start"].isoformat(), "end": data["end"].isoformat()})


@tenant_page("settings")
@require_GET
def billing_home(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    now = datetime.now(tz=UTC)
    mtd = month_to_date(tenant=tenant, now=now)
    by = _by(request)
    chargeback = mtd.chargeback
    period = PeriodForm(request.GET) if "start" in request.GET or "end" in request.GET else None
    if period is not None and period.is_valid():
        chargeback = chargeback_compute(
            tenant=tenant,
            start=period.cleaned_data["start"],
            end=period.cleaned_data["end"] + timedelta(days=1),
            source="rollups",
        )
    context = {
        "mtd": mtd,
        "chargeback": chargeback,
        "period": period,
        "period_errors": form_field_errors(period) if period is not None else {},
        "period_query": _period_query(period),
        "period_days": (
            (period.cleaned_data["start"], period.cleaned_data["end"])
            if period is not None and period.is_valid()
            else None
        ),
        "by": by,
        "breakdowns": BREAKDOWNS,
        "rows": chargeback.breakdown(by),
        "statements": statements_of(tenant=tenant)[:36],
        "card": rate_card_in_force(tenant=tenant, day=now.date()),
        "account": BillingAccount.objects.filter(tenant=tenant).first(),
        "credits": SlaCredit.objects.filter(tenant=tenant).order_by("-month")[:24],
        "month": f"{now:%Y-%m}",
        "last_month": f"{now.date().replace(day=1) - timedelta(days=1):%Y-%m}",
        "formats": list(FORMATS),
    }
    return render_page(request, "billing/home.html", "billing/_home.html", context)


@tenant_page("settings")
@require_GET
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    statement = statement_get(tenant=_tenant(request), statement_id=statement_id)
    by = _by(request)
    context = {
        "statement": statement,
        "by": by,
        "breakdowns": BREAKDOWNS,
        "rows": statement_breakdown(statement=statement, by=by),
        "formats": list(FORMATS),
    }
    return render_page(request, "billing/statement.html", "billing/_statement.html", context)


@tenant_page("settings")
@require_GET
def statement_download(request: HttpRequest, statement_id: int, fmt: str) -> Any:
    statement = statement_get(tenant=_tenant(request), statement_id=statement_id)
    if fmt not in FORMATS:
        raise Http404("Unknown format.")
    return export_response(statement_export(statement=statement, fmt=fmt))


@tenant_page("settings")
@require_GET
def cost_lines_download(request: HttpRequest, fmt: str) -> Any:
    month = parse_month(request.GET.get("month"))
    period = PeriodForm(request.GET)
    if fmt not in FORMATS:
        raise Http404("Unknown format.")
    if month is not None:
        start, end = month_bounds(month)
    elif period.is_valid():
        start, end = period.cleaned_data["start"], period.cleaned_data["end"] + timedelta(days=1)
    else:
        raise Http404("Give ?month=YYYY-MM or ?start=YYYY-MM-DD&end=YYYY-MM-DD.")
    try:
        export = cost_lines_export(tenant=_tenant(request), start=start, end=end, fmt=fmt)
    except ApplicationError as exc:
        context = {"error": exc}
        return render(request, "billing/export_refused.html", context, status=exc.status_code)
    return export_response(export)
