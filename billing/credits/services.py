"""SLA credits: computed once per tenant and month, sent to Stripe exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial

from django.db import IntegrityError, transaction
from stripe import StripeClient, StripeError

from billing.credits.sla import SlaBreach
from billing.ratecards.rating import to_cents
from billing.statements.models import Statement
from billing.stripe.models import BillingAccount, SendStatus, SlaCredit
from compliance.services import audit_record
from core.enqueue import enqueue
from core.exceptions import ApplicationError
from tenants.models import Tenant


def sla_credits_create(*, breaches: list[SlaBreach]) -> list[SlaCredit]:
    """A credit for each breach whose month has a closed statement (percent of its total).

    Safe to run twice: (tenant, month) is unique, and an existing credit is kept as is.
    Sending happens in a task after the commit (billing.send_sla_credit).
    """
    created = []
    for breach in breaches:
        if not breach.breached or breach.credit_percent <= 0:
            continue
        month = breach.month.replace(day=1)
        tenant = Tenant.objects.filter(schema_name=breach.tenant_slug).first()
        if tenant is None:
            continue
        statement = Statement.objects.filter(tenant=tenant, period_start=month).first()
        if statement is None or SlaCredit.objects.filter(tenant=tenant, month=month).exists():
            continue
        amount = to_cents(statement.total_charge * breach.credit_percent / 100)
        if amount <= 0:
            continue
        try:
            with transaction.atomic():
                credit = SlaCredit.objects.create(
                    tenant=tenant,
                    month=month,
                    slo_name=breach.slo_name[:200],
                    breach_minutes=breach.breach_minutes,
                    credit_percent=breach.credit_percent,
                    amount=amount,
                    reason=(breach.reason or f"SLA breach in {month:%B %Y}")[:500],
                    idempotency_key=f"vigil-sla-credit-{tenant.schema_name}-{month:%Y-%m}",
                )
                audit_record(
                    tenant_slug=tenant.schema_name,
                    action="billing.sla_credit_created",
                    object_type="sla_credit",
                    object_id=credit.pk,
                    after={
                        "month": month,
                        "percent": breach.credit_percent,
                        "amount": amount,
                        "reason": credit.reason,
                    },
                )
                transaction.on_commit(partial(_enqueue_send, credit.pk))
        except IntegrityError:  # created concurrently
            continue
        created.append(credit)
    return created


def _enqueue_send(credit_id: int) -> None:
    from billing.tasks import send_sla_credit

    enqueue(send_sla_credit, credit_id)  # billing.daily re-sends pending ones


def sla_credit_send(*, credit_id: int, client: StripeClient) -> SlaCredit:
    """Post the credit as a negative customer balance transaction, once.

    The idempotency key is fixed per (tenant, month): a retry after a lost answer
    gets Stripe's stored answer instead of a second credit.
    """
    credit = SlaCredit.objects.select_related("tenant").get(pk=credit_id)
    if credit.status == SendStatus.SENT:
        return credit
    account = BillingAccount.objects.filter(tenant=credit.tenant).first()
    if account is None or not account.stripe_customer_id:
        raise ApplicationError(
            "No Stripe customer.", details={"tenant": "Link a Stripe customer first."}
        )
    SlaCredit.objects.filter(pk=credit.pk).update(attempts=credit.attempts + 1)
    cents = int(credit.amount * 100)
    try:
        result = client.v1.customers.balance_transactions.create(
            account.stripe_customer_id,
            {
                "amount": -cents,
                "currency": "usd",
                "description": credit.reason,
                "metadata": {
                    "vigil_tenant": credit.tenant.schema_name,
                    "vigil_month": f"{credit.month:%Y-%m}",
                    "vigil_credit_id": str(credit.pk),
                },
            },
            {"idempotency_key": credit.idempotency_key},
        )
    except StripeError as exc:
        SlaCredit.objects.filter(pk=credit.pk).update(last_error=str(exc)[:500])
        raise
    with transaction.atomic():
        SlaCredit.objects.filter(pk=credit.pk, status=SendStatus.PENDING).update(
            status=SendStatus.SENT,
            stripe_object_id=str(result.id)[:64],
            sent_at=datetime.now(tz=UTC),
            last_error="",
        )
        audit_record(
            tenant_slug=credit.tenant.schema_name,
            action="billing.sla_credit_sent",
            object_type="sla_credit",
            object_id=credit.pk,
            after={"stripe_id": result.id, "amount": credit.amount},
        )
    credit.refresh_from_db()
    return credit


def month_before(day: date) -> date:
    first = day.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)
