"""SLA breaches become Stripe credits exactly once, with the reason."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

from billing.credits.services import sla_credit_send, sla_credits_create
from billing.credits.sla import SlaBreach, breaches_from_report, credit_percent_for
from billing.models import SendStatus, SlaCredit, Statement
from billing.ratecards.services import rate_card_create
from billing.statements.services import statement_close
from billing.stripe.client import stripe_client
from billing.stripe.services import billing_account_update
from compliance.models import AuditEntry
from tests.billing.factories import month_of_events

NOW = datetime(2026, 11, 15, tzinfo=UTC)
PATH = "/v1/customers/cus_creditalpha/balance_transactions"


def _breach(slug: str, percent: str = "10") -> SlaBreach:
    return SlaBreach(
        tenant_slug=slug,
        month=date(2026, 10, 1),
        breached=True,
        breach_minutes=Decimal(180),
        credit_percent=Decimal(percent),
        slo_name="Availability 99.9%",
        reason="SLA credit 10% for October 2026: missed Availability 99.9%",
    )


def test_credit_reaches_stripe_once_also_when_retried(
    tenant, other_tenant, fake_stripe, celery_eager, django_capture_on_commit_callbacks
):
    month_of_events(tenant, year=2026, month=10, count=60, seed=21)
    rate_card_create(
        tenant=tenant, effective_from=date(2026, 1, 1), mode="pass_through", markup_percent="20"
    )
    statement = statement_close(tenant=tenant, month=date(2026, 10, 1), now=NOW)
    billing_account_update(tenant=tenant, data={"stripe_customer_id": "cus_creditalpha"})
    fake_stripe.lose_answer_once(PATH)  # Stripe applies it, the answer is lost: the task retries

    with django_capture_on_commit_callbacks(execute=True):
        created = sla_credits_create(
            breaches=[_breach("alpha"), _breach("beta"), _breach("nosuch")]
        )
    # beta has no closed statement for the month: no credit (yet); unknown tenants are skipped.
    assert [c.tenant_id for c in created] == [tenant.pk]
    credit = SlaCredit.objects.get(pk=created[0].pk)
    expected = (statement.total_charge * Decimal("0.10")).quantize(Decimal("0.01"))
    assert credit.amount == expected and credit.status == SendStatus.SENT
    assert credit.stripe_object_id.startswith("cbtxn_")

    assert len(fake_stripe.balance_transactions) == 1
    txn = fake_stripe.balance_transactions[0]
    assert txn["amount"] == str(-int(expected * 100)) and txn["currency"] == "usd"
    assert txn["description"].startswith("SLA credit 10% for October 2026")
    assert txn["metadata[vigil_month]"] == "2026-10"
    posts = fake_stripe.posts(PATH)
    assert [p.status for p in posts] == [500, 200]
    assert {p.headers["idempotency-key"] for p in posts} == {"vigil-sla-credit-alpha-2026-10"}

    # Again: no second credit, no second request.
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_credits_create(breaches=[_breach("alpha", "25")]) == []
    sla_credit_send(credit_id=credit.pk, client=stripe_client())
    assert len(fake_stripe.posts(PATH)) == 2 and len(fake_stripe.balance_transactions) == 1
    sent = AuditEntry.objects.filter(action="billing.sla_credit_sent", object_id=str(credit.pk))
    assert sent.count() == 1


def test_tenant_admin_sees_own_credits_only(tenant, other_tenant, member_factory, tenant_client):
    month_of_events(tenant, year=2026, month=10, count=10, seed=22)
    statement_close(tenant=tenant, month=date(2026, 10, 1), now=NOW)
    sla_credits_create(breaches=[_breach("alpha")])
    html = tenant_client(tenant, member_factory(tenant, "admin")).get("/billing/").content.decode()
    assert "SLA credits" in html and "missed Availability 99.9%" in html
    other = tenant_client(other_tenant, member_factory(other_tenant, "admin")).get("/billing/")
    assert "missed Availability" not in other.content.decode()


def test_credit_schedule_and_report_adapter():
    assert credit_percent_for(0.5) == 0
    assert credit_percent_for(1.5) == 10
    assert credit_percent_for(3) == 25
    assert credit_percent_for(9) == 50
    line = SimpleNamespace(
        tenant_slug="alpha",
        slo_name="p99 < 2s",
        met=False,
        breach_minutes=120,
        budget_consumed=2.5,
        attained_pct=98.1,
        target=99.0,
    )
    ok = SimpleNamespace(
        tenant_slug="beta",
        slo_name="avail",
        met=True,
        breach_minutes=0,
        budget_consumed=0.2,
        attained_pct=99.99,
        target=99.9,
    )
    [breach] = breaches_from_report([line, ok], month=date(2026, 10, 9))
    assert breach.tenant_slug == "alpha" and breach.credit_percent == 25
    assert breach.month == date(2026, 10, 1) and breach.breach_minutes == 120
    assert "p99 < 2s" in breach.reason


def test_real_sla_report_breach_becomes_one_credit(
    tenant, other_tenant, fake_stripe, celery_eager, django_capture_on_commit_callbacks
):
    """alerts' monthly SLA report -> breach -> credit -> Stripe, through the real selector."""
    from django_tenants.utils import tenant_context

    from alerts.slo.services import slo_create
    from billing.credits.sla import sla_breaches
    from metrics.demo_traffic import event_build, events_insert
    from metrics.rollups.services import dirty_hours_process

    with tenant_context(tenant):
        slo_create(data={"name": "Availability 99.9%", "kind": "availability", "target": 99.9})
        events = [
            event_build(
                event_id=f"sla-{i}",
                timestamp=datetime(2026, 10, 3 + i % 20, i % 24, 7, tzinfo=UTC),
                cost_usd=Decimal("0.25"),
                status="error" if i % 10 == 0 else "ok",
            )
            for i in range(200)
        ]
        events_insert(events)
        dirty_hours_process(max_hours=10_000, time_budget_s=120)
    statement = statement_close(tenant=tenant, month=date(2026, 10, 1), now=NOW)
    billing_account_update(tenant=tenant, data={"stripe_customer_id": "cus_creditalpha"})

    breaches = sla_breaches(month=date(2026, 10, 1))
    mine = [b for b in breaches if b.tenant_slug == "alpha"]
    assert len(mine) == 1 and mine[0].credit_percent == 50  # 10% errors vs 0.1% allowed
    assert "Availability 99.9%" in mine[0].reason
    assert all(b.tenant_slug != "beta" for b in breaches)

    with django_capture_on_commit_callbacks(execute=True):
        [credit] = sla_credits_create(breaches=breaches)
    credit.refresh_from_db()
    assert credit.amount == (statement.total_charge / 2).quantize(Decimal("0.01"))
    assert credit.status == SendStatus.SENT
    assert [t["amount"] for t in fake_stripe.balance_transactions] == [
        str(-int(credit.amount * 100))
    ]


def test_month_adjustment_reaches_stripe_once_as_an_invoice_item(
    tenant, fake_stripe, celery_eager, django_capture_on_commit_callbacks
):
    """Meters bill the usage; the allowance and minimum follow as one invoice item."""
    from billing.models import StatementAdjustment
    from billing.tasks import close_month

    month_of_events(tenant, year=2026, month=10, count=40, seed=23)
    rate_card_create(
        tenant=tenant,
        effective_from=date(2026, 1, 1),
        mode="pass_through",
        included_usd="0.50",
        minimum_usd="75",
    )
    billing_account_update(tenant=tenant, data={"stripe_customer_id": "cus_adjalpha"})
    fake_stripe.lose_answer_once("/v1/invoiceitems")
    with django_capture_on_commit_callbacks(execute=True):
        statement_id = close_month.delay(tenant.pk, "2026-10").get()
    statement = Statement.objects.get(pk=statement_id)
    adjustment = StatementAdjustment.objects.get(statement=statement)
    expected = (statement.minimum_topup - statement.allowance_credit).quantize(Decimal("0.01"))
    assert adjustment.amount == expected and adjustment.status == SendStatus.SENT
    # Meter usage + adjustment = what the statement bills.
    assert abs(statement.usage_charge + adjustment.amount - statement.total_charge) <= Decimal(
        "0.01"
    )
    assert fake_stripe.invoice_items == [fake_stripe.invoice_items[0]]
    item = fake_stripe.invoice_items[0]
    assert item["customer"] == "cus_adjalpha" and item["amount"] == str(int(expected * 100))
    assert "monthly minimum" in item["description"] and item["metadata[vigil_period]"] == "2026-10"
    posts = fake_stripe.posts("/v1/invoiceitems")
    assert [p.status for p in posts] == [500, 200]
    assert {p.headers["idempotency-key"] for p in posts} == {"vigil-adjustment-alpha-2026-10"}
    # Closing again neither creates nor sends anything.
    with django_capture_on_commit_callbacks(execute=True):
        close_month.delay(tenant.pk, "2026-10")
    assert len(fake_stripe.posts("/v1/invoiceitems")) == 2
