"""Usage to Stripe Billing Meters: one event per tenant, meter and hour, exactly once.

`meter_events_prepare` records the settled hours' usage charge as pending
MeterEventRecords (value in micro-USD, deterministic identifier) and moves the
tenant's cursor; `meter_events_send` sends pending records with the identifier
as both the meter event identifier and the Idempotency-Key, so a retry after a
lost answer is deduplicated by Stripe and a record once sent is never resent.
`meter_reconcile` compares a day's metered total with Vigil's own and meters
any shortfall (late events, back-dated rate cards) as a correction event.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django_tenants.utils import tenant_context
from stripe import InvalidRequestError, StripeClient, StripeError

from billing.ratecards.rating import card_for_day, rate
from billing.ratecards.selectors import rate_cards_of
from billing.stripe.models import (
    BillingAccount,
    MeterEventRecord,
    MeterReconciliation,
    SendStatus,
)
from compliance.services import audit_record
from metrics.selectors.billing import billable_usage
from tenants.models import Tenant

HOUR = timedelta(hours=1)
SETTLE = timedelta(hours=2)  # hours younger than this may still receive late events
BACKFILL = timedelta(days=30)  # Stripe accepts meter events up to 35 days old
MICROS = Decimal(1_000_000)
RESEND_WINDOW = timedelta(hours=20)
STALE = (
    "Not resent: first sent over 20 h ago, beyond Stripe's idempotency window. Check the "
    "meter's event summary in Stripe before resending."
)


def _already_recorded(exc: InvalidRequestError) -> bool:
    """Stripe refused the identifier because it already has this event: it counts once."""
    text = str(exc).lower()
    return "identifier" in text and ("already" in text or "duplicate" in text)


def _floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hourly_micros(*, tenant: Tenant, start: datetime, end: datetime) -> dict[datetime, int]:
    """Usage charge per hour in [start, end), in whole micro-USD (from the rollups)."""
    cards = list(rate_cards_of(tenant=tenant))
    with tenant_context(tenant):
        groups = billable_usage(start=start, end=end, source="rollups", bucket="hour")
    charged: dict[datetime, Decimal] = defaultdict(Decimal)
    for group in groups:
        hour = group.bucket
        if not isinstance(hour, datetime):  # bucket="hour" always gives datetimes
            continue
        charged[hour] += rate(card_for_day(cards, hour.astimezone(UTC).date()), group)
    return {
        hour: int((amount * MICROS).to_integral_value(rounding=ROUND_HALF_UP))
        for hour, amount in charged.items()
    }


def meter_identifier(slug: str, event_name: str, hour: datetime, suffix: str = "") -> str:
    return f"vigil-{slug}-{event_name}-{hour:%Y%m%dT%H}{suffix}"


def meter_events_prepare(*, account: BillingAccount, now: datetime | None = None) -> int:
    """Record pending meter events for the account's settled, unmetered hours."""
    now = now or datetime.now(tz=UTC)
    until = _floor_hour(now - SETTLE)
    start = max(account.metered_until or until - BACKFILL, until - BACKFILL)
    if start >= until:
        return 0
    tenant = account.tenant
    event_name = settings.STRIPE_METER_EVENT_NAME
    micros = hourly_micros(tenant=tenant, start=start, end=until)
    with transaction.atomic():
        locked = BillingAccount.objects.select_for_update().get(pk=account.pk)
        if locked.metered_until is not None and locked.metered_until >= until:
            return 0  # another worker got here first
        records = [
            MeterEventRecord(
                tenant=tenant,
                event_name=event_name,
                hour=hour,
                identifier=meter_identifier(tenant.schema_name, event_name, hour),
                value=value,
            )
            for hour, value in sorted(micros.items())
            if value > 0 and hour >= start
        ]
        MeterEventRecord.objects.bulk_create(records, ignore_conflicts=True)
        BillingAccount.objects.filter(pk=account.pk).update(metered_until=until)
        audit_record(
            tenant_slug=tenant.schema_name,
            action="billing.meter_events_recorded",
            object_type="billing_account",
            object_id=account.pk,
            after={"from": start, "until": until, "events": len(records)},
        )
    account.metered_until = until
    return len(records)


def meter_events_send(*, account: BillingAccount, client: StripeClient, limit: int = 500) -> int:
    """Send the account's pending meter events; raises StripeError for the task to retry."""
    now = datetime.now(tz=UTC)
    pending = list(
        MeterEventRecord.objects.filter(tenant=account.tenant, status=SendStatus.PENDING).order_by(
            "hour", "id"
        )[:limit]
    )
    sent = 0
    for record in pending:
        if record.attempts and record.created_at < now - RESEND_WINDOW:
            # Stripe keeps idempotency keys and identifiers for ~24 h: past that a resend
            # could bill twice, so ops check the meter's event summary and decide.
            MeterEventRecord.objects.filter(pk=record.pk).update(last_error=STALE[:500])
            continue
        MeterEventRecord.objects.filter(pk=record.pk).update(attempts=record.attempts + 1)
        try:
            client.v1.billing.meter_events.create(
                {
                    "event_name": record.event_name,
                    "identifier": record.identifier,
                    "timestamp": int(record.hour.timestamp()),
                    "payload": {
                        "stripe_customer_id": account.stripe_customer_id,
                        "value": str(record.value),
                    },
                },
                {"idempotency_key": record.identifier},
            )
        except InvalidRequestError as exc:
            if not _already_recorded(exc):
                MeterEventRecord.objects.filter(pk=record.pk).update(last_error=str(exc)[:500])
                raise
        except StripeError as exc:
            MeterEventRecord.objects.filter(pk=record.pk).update(last_error=str(exc)[:500])
            raise
        MeterEventRecord.objects.filter(pk=record.pk, status=SendStatus.PENDING).update(
            status=SendStatus.SENT, sent_at=datetime.now(tz=UTC), last_error=""
        )
        sent += 1
    return sent


def meter_reconcile(*, account: BillingAccount, day: date) -> MeterReconciliation:
    """Compare `day`'s metered micro-USD with Vigil's totals; meter a shortfall once."""
    tenant = account.tenant
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    vigil = sum(hourly_micros(tenant=tenant, start=start, end=start + timedelta(days=1)).values())
    with transaction.atomic():
        BillingAccount.objects.select_for_update().filter(pk=account.pk).first()
        records = MeterEventRecord.objects.filter(
            tenant=tenant, hour__gte=start, hour__lt=start + timedelta(days=1)
        )
        metered = records.aggregate(v=Sum("value"))["v"] or 0
        corrected = records.filter(is_correction=True).aggregate(v=Sum("value"))["v"] or 0
        shortfall = vigil - metered
        if (
            shortfall > 0
            and account.metered_until
            and account.metered_until >= start + timedelta(days=1)
        ):
            n = records.filter(is_correction=True).count() + 1
            last_hour = start + timedelta(hours=23)
            event_name = settings.STRIPE_METER_EVENT_NAME
            MeterEventRecord.objects.create(
                tenant=tenant,
                event_name=event_name,
                hour=last_hour,
                identifier=meter_identifier(tenant.schema_name, event_name, last_hour, f"-c{n}"),
                value=shortfall,
                is_correction=True,
            )
            metered += shortfall
            corrected += shortfall
        recon, _ = MeterReconciliation.objects.update_or_create(
            tenant=tenant,
            day=day,
            defaults={
                "vigil_micros": vigil,
                "metered_micros": metered,
                "corrected_micros": corrected,
            },
        )
        audit_record(
            tenant_slug=tenant.schema_name,
            action="billing.meters_reconciled",
            object_type="meter_reconciliation",
            object_id=recon.pk,
            after={"day": day, "vigil_micros": vigil, "metered_micros": metered},
        )
    return recon
