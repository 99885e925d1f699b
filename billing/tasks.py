"""Thin Celery tasks (queue `billing`): Stripe is only ever called from here."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from stripe import StripeError

from billing.credits.services import month_before, sla_credit_send, sla_credits_create
from billing.credits.sla import sla_breaches
from billing.statements.services import statement_close
from billing.stripe.adjustments import statement_adjustment_create, statement_adjustment_send
from billing.stripe.client import stripe_client
from billing.stripe.meters import meter_events_prepare, meter_events_send, meter_reconcile
from billing.stripe.models import BillingAccount, SendStatus, SlaCredit, StatementAdjustment
from core.request_context import acting_as
from tenants.selectors import tenants_active

log = logging.getLogger(__name__)
RETRY = {"max_retries": 8, "countdown": 60}


def _accounts() -> list[BillingAccount]:
    return list(
        BillingAccount.objects.select_related("tenant")
        .filter(metering_enabled=True, tenant__status="active")
        .exclude(stripe_customer_id="")
        .order_by("pk")
    )


@shared_task(name="billing.close_month", time_limit=1800, soft_time_limit=1700)
def close_month(tenant_id: int, month: str) -> int:
    """Close `month` (YYYY-MM) of one tenant into its statement; returns the statement id."""
    from tenants.models import Tenant

    tenant = Tenant.objects.get(pk=tenant_id)
    with acting_as("billing.close_month"):
        statement = statement_close(tenant=tenant, month=date.fromisoformat(f"{month}-01"))
        statement_adjustment_create(statement=statement)  # allowance/minimum to Stripe
    return statement.pk


@shared_task(name="billing.send_meter_events", bind=True, time_limit=900, soft_time_limit=840)
def send_meter_events(self: Any) -> int:
    """Record settled hours as meter events and send every pending one to Stripe."""
    if not settings.STRIPE_API_KEY:
        log.info("STRIPE_API_KEY is not set: usage is not metered to Stripe")
        return 0
    client = stripe_client()
    sent = 0
    failed: list[str] = []
    with acting_as("billing.send_meter_events"):
        for account in _accounts():
            meter_events_prepare(account=account)
            try:
                sent += meter_events_send(account=account, client=client)
            except StripeError as exc:
                failed.append(f"{account.tenant.schema_name}: {exc}")
    if failed:
        log.warning("meter events failed: %s", failed)
        raise self.retry(exc=StripeError("; ".join(failed)[:500]), **RETRY)
    return sent


@shared_task(name="billing.send_sla_credit", bind=True, time_limit=120, soft_time_limit=100)
def send_sla_credit(self: Any, credit_id: int) -> str:
    if not settings.STRIPE_API_KEY:
        return "pending"  # kept pending; billing.daily resends once Stripe is configured
    try:
        with acting_as("billing.send_sla_credit"):
            return sla_credit_send(credit_id=credit_id, client=stripe_client()).status
    except StripeError as exc:
        raise self.retry(exc=exc, **RETRY) from exc


@shared_task(
    name="billing.send_statement_adjustment", bind=True, time_limit=120, soft_time_limit=100
)
def send_statement_adjustment(self: Any, adjustment_id: int) -> str:
    if not settings.STRIPE_API_KEY:
        return "pending"
    try:
        with acting_as("billing.send_statement_adjustment"):
            return statement_adjustment_send(
                adjustment_id=adjustment_id, client=stripe_client()
            ).status
    except StripeError as exc:
        raise self.retry(exc=exc, **RETRY) from exc


@shared_task(name="billing.daily", time_limit=3600, soft_time_limit=3500)
def daily() -> dict[str, int]:
    """Queue last month's close per tenant, reconcile yesterday's meters, create SLA
    credits for last month's closed statements (a statement closed by today's queued
    task is credited tomorrow) and resend unsent credits. Safe to run twice."""
    today = datetime.now(tz=UTC).date()
    last_month = month_before(today)
    closed = credits = reconciled = 0
    with acting_as("billing.daily"):
        for tenant in tenants_active():
            close_month.delay(tenant.pk, f"{last_month:%Y-%m}")
            closed += 1
        for account in _accounts():
            meter_reconcile(account=account, day=today - timedelta(days=1))
            reconciled += 1
        credits = len(sla_credits_create(breaches=sla_breaches(month=last_month)))
    for credit_id in SlaCredit.objects.filter(status=SendStatus.PENDING).values_list(
        "pk", flat=True
    ):
        send_sla_credit.delay(credit_id)
    for adjustment_id in StatementAdjustment.objects.filter(status=SendStatus.PENDING).values_list(
        "pk", flat=True
    ):
        send_statement_adjustment.delay(adjustment_id)
    return {"closed": closed, "reconciled": reconciled, "credits": credits}
