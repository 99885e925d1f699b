"""The ops billing console on the public host (staff): every tenant, rate cards,
billing accounts, statements, credits; closing a month is queued to Celery."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from billing import selectors
from billing.credits.services import month_before
from billing.exports.services import statement_export
from billing.exports.writers import FORMATS
from billing.forms import BillingAccountForm, MonthForm, RateCardForm
from billing.ratecards.models import PricingMode
from billing.ratecards.selectors import rate_cards_of
from billing.ratecards.services import rate_card_create
from billing.statements.selectors import statement_get, statements_of
from billing.stripe.models import BillingAccount
from billing.stripe.services import billing_account_update
from billing.views.common import export_response
from compliance.services import audit_record
from core.enqueue import enqueue_on_commit
from core.exceptions import ApplicationError
from core.roles import staff_page
from core.views_helpers import form_errors_from, form_field_errors, render_page
from tenants.models import Tenant
from tenants.selectors import tenant_get_by_slug


@staff_page
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    rows = selectors.billing_overview_all_tenants()
    context = {
        "rows": rows,
        "unpaid": [r for r in rows if r.unpaid],
        "credits": selectors.credits_all_tenants(),
        "credits_total": selectors.credits_total_all_tenants(),
        "mismatches": selectors.meter_mismatches_all_tenants(),
        "failing_meters": selectors.meter_events_failing_all_tenants(),
    }
    return render_page(request, "billing/ops_overview.html", "billing/_ops_overview.html", context)


def _today() -> date:
    return datetime.now(tz=UTC).date()


def _tenant_context(tenant: Tenant, **extra: object) -> dict[str, object]:
    account = BillingAccount.objects.filter(tenant=tenant).first()
    return {
        "tenant": tenant,
        "cards": rate_cards_of(tenant=tenant),
        "statements": statements_of(tenant=tenant),
        "account": account,
        "card_form": extra.pop("card_form", RateCardForm(initial={"mode": "pass_through"})),
        "account_form": extra.pop(
            "account_form",
            BillingAccountForm(
                initial={
                    "stripe_customer_id": account.stripe_customer_id if account else "",
                    "stripe_subscription_id": account.stripe_subscription_id if account else "",
                    "status": account.status if account else "none",
                    "metering_enabled": account.metering_enabled if account else True,
                }
            ),
        ),
        "modes": PricingMode.choices,
        "close_value": extra.pop("close_value", f"{month_before(_today()):%Y-%m}"),
        "formats": list(FORMATS),
        **extra,
    }


def _render_tenant(request: HttpRequest, tenant: Tenant, **extra: object) -> HttpResponse:
    context = _tenant_context(tenant, **extra)
    return render_page(request, "billing/ops_tenant.html", "billing/_ops_tenant.html", context)


@staff_page
@require_GET
def tenant_billing(request: HttpRequest, slug: str) -> HttpResponse:
    return _render_tenant(request, tenant_get_by_slug(slug=slug))


@staff_page
@require_POST
def rate_card_add(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = tenant_get_by_slug(slug=slug)
    form = RateCardForm(request.POST)
    errors: dict[str, str] = {}
    if form.is_valid():
        data = form.cleaned_data
        try:
            card = rate_card_create(
                tenant=tenant,
                effective_from=data["effective_from"],
                mode=data["mode"],
                markup_percent=data["markup_percent"] or 0,
                prices=data["prices"],
                included_usd=data["included_usd"] or 0,
                minimum_usd=data["minimum_usd"] or 0,
                note=data["note"],
                created_by=request.user if request.user.is_authenticated else None,
            )
        except ApplicationError as exc:
            errors = form_errors_from(exc)
        else:
            messages.success(request, f"Rate card v{card.version} starts on {card.effective_from}.")
            form = RateCardForm(initial={"mode": "pass_through"})
    else:
        errors = form_field_errors(form)
    return _render_tenant(request, tenant, card_form=form, card_errors=errors)


@staff_page
@require_POST
def account_update(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = tenant_get_by_slug(slug=slug)
    form = BillingAccountForm(request.POST)
    errors: dict[str, str] = {}
    if form.is_valid():
        try:
            billing_account_update(tenant=tenant, data=form.cleaned_data)
        except ApplicationError as exc:
            errors = form_errors_from(exc)
        else:
            messages.success(request, "Billing account saved.")
    else:
        errors = form_field_errors(form)
    return _render_tenant(request, tenant, account_form=form, account_errors=errors)


@staff_page
@require_POST
def close_month(request: HttpRequest, slug: str) -> HttpResponse:
    """Queue the close (a month of raw events may take a while); the page shows it when done."""
    from billing.tasks import close_month as close_task

    tenant = tenant_get_by_slug(slug=slug)
    form = MonthForm(request.POST)
    if not form.is_valid():
        return _render_tenant(
            request,
            tenant,
            close_errors=form_field_errors(form),
            close_value=str(request.POST.get("month", ""))[:20],
        )
    month = form.cleaned_data["month"]
    with transaction.atomic():
        audit_record(
            tenant_slug=tenant.schema_name,
            action="billing.statement_close_requested",
            object_type="statement",
            object_id=f"{month:%Y-%m}",
        )
        enqueue_on_commit(close_task, tenant.pk, f"{month:%Y-%m}")
    messages.success(request, f"Closing {month:%B %Y} for {tenant.name}: listed below when done.")
    return redirect("ops:billing-tenant", slug=tenant.schema_name)


@staff_page
@require_GET
def statement_download(request: HttpRequest, slug: str, statement_id: int, fmt: str) -> Any:
    tenant = tenant_get_by_slug(slug=slug)
    statement = statement_get(tenant=tenant, statement_id=statement_id)
    if fmt not in FORMATS:
        raise Http404("Unknown format.")
    return export_response(statement_export(statement=statement, fmt=fmt))
