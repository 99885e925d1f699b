"""A closed month's allowance and minimum, sent to Stripe as one invoice item.

Meter events carry the usage charge hour by hour; the monthly allowance credit
and minimum top-up only exist once the month is closed, so they follow as an
invoice item on the customer's next invoice, with a fixed idempotency key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from django.db import transaction
from stripe import StripeClient, StripeError

from billing.ratecards.rating import to_cents
from billing.statements.models import Statement
from billing.stripe.models import BillingAccount, SendStatus, StatementAdjustment
from compliance.services import audit_record
from core.enqueue import enqueue
from core.exceptions import ApplicationError


def statement_adjustment_create(*, statement: Statement) -> StatementAdjustment | None:
    """Record the adjustment of a closed statement (None when there is nothing to adjust
    or the tenant has no Stripe customer); sending is queued after the commit."""
    amount = to_cents(statement.minimum_topup - statement.allowance_credit)
    account = BillingAccount.objects.filter(tenant_id=statement.tenant_id).first()
    if not amount or account is None or not account.stripe_customer_id:
        return None
    parts = []
    if statement.allowance_credit:
        parts.append(f"included allowance -{to_cents(statement.allowance_credit)}")
    if statement.minimum_topup:
        parts.append(f"monthly minimum +{to_cents(statement.minimum_topup)}")
    slug = statement.tenant.schema_name
    with transaction.atomic():
        adjustment, created = StatementAdjustment.objects.get_or_create(
            statement=statement,
            defaults={
                "amount": amount,
                "description": f"Vigil {statement.period_start:%B %Y}: {', '.join(parts)} USD",
                "idempotency_key": f"vigil-adjustment-{slug}-{statement.period_start:%Y-%m}",
            },
        )
        if created:
            audit_record(
                tenant_slug=slug,
                action="billing.statement_adjustment_created",
                object_type="statement",
                object_id=statement.pk,
                after={"amount": amount, "description": adjustment.description},
            )
            transaction.on_commit(partial(_enqueue, adjustment.pk))
    return adjustment


def _enqueue(adjustment_id: int) -> None:
    from billing.tasks import send_statement_adjustment

    enqueue(send_statement_adjustment, adjustment_id)  # billing.daily re-sends pending ones


def statement_adjustment_send(*, adjustment_id: int, client: StripeClient) -> StatementAdjustment:
    adjustment = StatementAdjustment.objects.select_related("statement__tenant").get(
        pk=adjustment_id
    )
    if adjustment.status == SendStatus.SENT:
        return adjustment
    statement = adjustment.statement
    account = BillingAccount.objects.filter(tenant_id=statement.tenant_id).first()
    if account is None or not account.stripe_customer_id:
        raise ApplicationError("No Stripe customer.", details={"tenant": "Link one first."})
    StatementAdjustment.objects.filter(pk=adjustment.pk).update(attempts=adjustment.attempts + 1)
    try:
        item = client.v1.invoice_items.create(
            {
                "customer": account.stripe_customer_id,
                "amount": int(adjustment.amount * 100),
                "currency": "usd",
                "description": adjustment.description,
                "metadata": {
                    "vigil_tenant": statement.tenant.schema_name,
                    "vigil_statement_id": str(statement.pk),
                    "vigil_period": f"{statement.period_start:%Y-%m}",
                },
            },
            {"idempotency_key": adjustment.idempotency_key},
        )
    except StripeError as exc:
        StatementAdjustment.objects.filter(pk=adjustment.pk).update(last_error=str(exc)[:500])
        raise
    with transaction.atomic():
        StatementAdjustment.objects.filter(pk=adjustment.pk, status=SendStatus.PENDING).update(
            status=SendStatus.SENT,
            stripe_object_id=str(item.id)[:64],
            sent_at=datetime.now(tz=UTC),
            last_error="",
        )
        audit_record(
            tenant_slug=statement.tenant.schema_name,
            action="billing.statement_adjustment_sent",
            object_type="statement",
            object_id=statement.pk,
            after={"stripe_id": item.id, "amount": adjustment.amount},
        )
    adjustment.refresh_from_db()
    return adjustment
