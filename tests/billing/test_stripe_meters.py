"""Usage reaches the fake Stripe's Billing Meter exactly once per tenant and hour."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django_tenants.utils import tenant_context

from billing.models import BillingAccount, MeterEventRecord, MeterReconciliation, SendStatus
from billing.ratecards.services import rate_card_create
from billing.stripe.meters import meter_reconcile
from billing.stripe.services import billing_account_update
from billing.tasks import send_meter_events
from core.exceptions import ApplicationError
from metrics.demo_traffic import event_build, events_insert
from metrics.rollups.services import dirty_hours_process

METER_PATH = "/v1/billing/meter_events"


def _hour(hours_ago: int) -> datetime:
    now = datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0)
    return now - timedelta(hours=hours_ago)


def _traffic(tenant, spec: dict[int, list[str]], prefix: str) -> dict[datetime, Decimal]:
    """Events `hours_ago -> costs`; rollups built. Returns cost per hour."""
    events = []
    per_hour: dict[datetime, Decimal] = {}
    for ago, costs in spec.items():
        for i, cost in enumerate(costs):
            ts = _hour(ago) + timedelta(minutes=5 + i)
            events.append(
                event_build(event_id=f"{prefix}-{ago}-{i}", timestamp=ts, cost_usd=Decimal(cost))
            )
            per_hour[_hour(ago)] = per_hour.get(_hour(ago), Decimal(0)) + Decimal(cost)
    with tenant_context(tenant):
        events_insert(events)
        dirty_hours_process(max_hours=1000, time_budget_s=60)
    return per_hour


def micros(amount: Decimal) -> int:
    return int((amount * 1_000_000).to_integral_value(rounding=ROUND_HALF_UP))


@pytest.fixture
def metered_tenant(tenant):
    billing_account_update(tenant=tenant, data={"stripe_customer_id": "cus_alpha123"})
    rate_card_create(
        tenant=tenant, effective_from=date(2020, 1, 1), mode="pass_through", markup_percent="10"
    )
    return tenant


def test_meter_events_sent_once_per_hour_even_when_retried(
    metered_tenant, other_tenant, fake_stripe, celery_eager
):
    per_hour = _traffic(metered_tenant, {10: ["0.0123456789", "0.5"], 5: ["1.25"], 1: ["9"]}, "mt1")
    _traffic(other_tenant, {6: ["3"]}, "mt1b")  # no billing account: never metered
    # The second event's answer is lost after Stripe processed it: the task retries.
    fake_stripe.lose_answer_once(METER_PATH)

    send_meter_events.delay()

    records = list(MeterEventRecord.objects.filter(tenant=metered_tenant).order_by("hour"))
    assert [r.hour for r in records] == [_hour(10), _hour(5)]  # the last hour is not settled yet
    assert all(r.status == SendStatus.SENT for r in records)
    expected = {r.identifier: micros(per_hour[r.hour] * Decimal("1.1")) for r in records}
    assert {k: int(v["payload[value]"]) for k, v in fake_stripe.meter_events.items()} == expected
    # Each identifier was billed once; the retry reused identifier and Idempotency-Key.
    posts = fake_stripe.posts(METER_PATH)
    assert len(posts) == 3 and posts[0].status == 500
    for post in posts:
        assert post.headers["idempotency-key"] == post.params["identifier"]
        assert post.params["payload[stripe_customer_id]"] == "cus_alpha123"
        assert post.params["event_name"] == "vigil_usage"
        assert post.params["identifier"].startswith("vigil-alpha-vigil_usage-")
    assert records[0].attempts == 2 and records[1].attempts == 1

    # Running again sends nothing new.
    send_meter_events.delay()
    assert len(fake_stripe.posts(METER_PATH)) == 3


def test_failure_before_processing_is_retried_and_bills_once(
    metered_tenant, fake_stripe, celery_eager
):
    _traffic(metered_tenant, {8: ["0.2"]}, "mt2")
    fake_stripe.fail_once(METER_PATH)
    send_meter_events.delay()
    assert len(fake_stripe.meter_events) == 1
    assert [p.status for p in fake_stripe.posts(METER_PATH)] == [500, 200]


def test_nightly_reconciliation_meters_late_usage_once(metered_tenant, fake_stripe, celery_eager):
    _traffic(metered_tenant, {30: ["1.00"]}, "mt3")
    send_meter_events.delay()
    day = _hour(30).date()
    assert meter_reconcile(account=metered_tenant.billing_account, day=day).difference_micros == 0
    # A late event lands in an hour that was already metered.
    _traffic(
        metered_tenant, {29: ["0.50"]} if _hour(29).date() == day else {31: ["0.50"]}, "mt3late"
    )
    account = BillingAccount.objects.get(tenant=metered_tenant)
    recon = meter_reconcile(account=account, day=day)
    assert recon.corrected_micros == micros(Decimal("0.55"))
    assert recon.difference_micros == 0
    send_meter_events.delay()
    corrections = [k for k in fake_stripe.meter_events if k.endswith("-c1")]
    assert len(corrections) == 1
    assert fake_stripe.meter_events[corrections[0]]["payload[value]"] == str(
        micros(Decimal("0.55"))
    )
    # Reconciling again changes nothing and sends nothing.
    meter_reconcile(account=account, day=day)
    send_meter_events.delay()
    assert len([k for k in fake_stripe.meter_events if re.search(r"-c\d+$", k)]) == 1
    assert MeterReconciliation.objects.get(tenant=metered_tenant, day=day).difference_micros == 0


def test_billing_account_validation(tenant):
    with pytest.raises(ApplicationError):
        billing_account_update(tenant=tenant, data={"stripe_customer_id": "not-a-customer"})
    with pytest.raises(ApplicationError):
        billing_account_update(tenant=tenant, data={"status": "bogus"})


def test_resend_after_keys_expired_is_deduplicated_by_identifier_and_stale_ones_wait_for_ops(
    metered_tenant, fake_stripe
):
    from stripe import APIError

    from billing.stripe.client import stripe_client
    from billing.stripe.meters import meter_events_prepare, meter_events_send

    _traffic(metered_tenant, {12: ["0.3"], 11: ["0.4"]}, "mt5")
    account = BillingAccount.objects.select_related("tenant").get(tenant=metered_tenant)
    assert meter_events_prepare(account=account) == 2
    fake_stripe.lose_answer_once(METER_PATH)
    with pytest.raises(APIError):
        meter_events_send(account=account, client=stripe_client())
    fake_stripe.forget_idempotency_keys()
    assert meter_events_send(account=account, client=stripe_client()) == 2
    assert len(fake_stripe.meter_events) == 2  # the first one was refused as a duplicate identifier
    assert fake_stripe.posts(METER_PATH)[1].status == 400
    assert set(
        MeterEventRecord.objects.filter(tenant=metered_tenant).values_list("status", flat=True)
    ) == {"sent"}

    # A record first sent long ago and still pending is not resent automatically.
    record = MeterEventRecord.objects.filter(tenant=metered_tenant).earliest("id")
    MeterEventRecord.objects.filter(pk=record.pk).update(
        status="pending", created_at=datetime.now(tz=UTC) - timedelta(hours=30)
    )
    assert meter_events_send(account=account, client=stripe_client()) == 0
    record.refresh_from_db()
    assert record.status == "pending" and "Not resent" in record.last_error
    assert len(fake_stripe.posts(METER_PATH)) == 3
    from billing.selectors import meter_events_failing_all_tenants

    assert [m.pk for m in meter_events_failing_all_tenants()] == [record.pk]


def test_daily_task_closes_last_month_reconciles_and_credits(
    metered_tenant, other_tenant, fake_stripe, celery_eager
):
    from billing.credits.services import month_before
    from billing.models import Statement
    from billing.tasks import daily

    _traffic(metered_tenant, {30: ["0.75"]}, "mt6")
    send_meter_events.delay()
    result = daily.delay().get()
    last_month = month_before(datetime.now(tz=UTC).date())
    assert result["closed"] >= 2 and result["reconciled"] == 1
    for t in (metered_tenant, other_tenant):
        assert Statement.objects.filter(tenant=t, period_start=last_month).count() == 1
    day = (datetime.now(tz=UTC) - timedelta(days=1)).date()
    assert MeterReconciliation.objects.filter(tenant=metered_tenant, day=day).exists()
    daily.delay()  # twice: nothing new
    assert Statement.objects.filter(period_start=last_month).count() == result["closed"]
