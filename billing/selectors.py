"""Cross-tenant billing reads for the ops console (names say `_all_tenants`).

The overview reads the public DailyUsage table (per tenant, day, feature and
model: enough to rate every card mode), so it never enters tenant schemas and
its query count does not grow with the number of tenants.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from billing.ratecards.models import RateCard
from billing.ratecards.rating import ZERO, card_for_day, rate
from billing.statements.compute import month_bounds, month_forecast
from billing.statements.models import Statement
from billing.stripe.models import (
    BillingAccount,
    MeterEventRecord,
    MeterReconciliation,
    SendStatus,
    SlaCredit,
)
from metrics.selectors.ops import daily_usage_all_tenants
from tenants.selectors import tenants_list


@dataclass(frozen=True)
class TenantBillingRow:
    slug: str
    name: str
    status: str
    requests: int
    provider_cost: Decimal
    usage_charge: Decimal
    usage_forecast: Decimal
    total_forecast: Decimal
    last_statement: Statement | None
    account: BillingAccount | None

    @property
    def unpaid(self) -> bool:
        return bool(self.account and self.account.payment_failed)


class _DayUsage:
    """A DailyUsage row as the rating functions read it."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.feature = row["feature"]
        self.model = row["model"]
        self.requests = row["requests"]
        self.input_tokens = row["input_tokens"]
        self.output_tokens = row["output_tokens"]
        self.cached_input_tokens = row["cached_input_tokens"]
        self.cost_usd = row["cost_usd"]


def billing_overview_all_tenants(*, now: datetime | None = None) -> list[TenantBillingRow]:
    """Every tenant's month so far, forecast, last statement and payment state."""
    now = now or datetime.now(tz=UTC)
    month_start, _ = month_bounds(now.date())
    cards: dict[int, list[RateCard]] = defaultdict(list)
    for card in RateCard.objects.order_by("tenant_id", "version"):
        cards[card.tenant_id].append(card)
    accounts = {a.tenant_id: a for a in BillingAccount.objects.all()}
    last: dict[int, Statement] = {}
    for statement in Statement.objects.order_by("tenant_id", "-period_start"):
        last.setdefault(statement.tenant_id, statement)
    sums: dict[str, list[Any]] = defaultdict(lambda: [0, ZERO, ZERO])
    tenants = list(tenants_list())
    ids = {t.schema_name: t.pk for t in tenants}
    for row in daily_usage_all_tenants(start=month_start, end=now.date()):
        slug = row["tenant_slug"]
        acc = sums[slug]
        acc[0] += row["requests"]
        acc[1] += row["cost_usd"]
        acc[2] += rate(card_for_day(cards.get(ids.get(slug, 0), []), row["day"]), _DayUsage(row))
    rows = []
    for tenant in tenants:
        requests, cost, charge = sums.get(tenant.schema_name, (0, ZERO, ZERO))
        usage_forecast, total_forecast = month_forecast(
            usage_charge=charge, cards=cards.get(tenant.pk, []), now=now
        )
        rows.append(
            TenantBillingRow(
                slug=tenant.schema_name,
                name=tenant.name,
                status=tenant.status,
                requests=requests,
                provider_cost=cost,
                usage_charge=charge,
                usage_forecast=usage_forecast,
                total_forecast=total_forecast,
                last_statement=last.get(tenant.pk),
                account=accounts.get(tenant.pk),
            )
        )
    # Payment failures first, then by charge so far.
    rows.sort(key=lambda r: (not r.unpaid, -r.usage_charge, r.slug))
    return rows


def credits_all_tenants(*, limit: int = 100) -> list[SlaCredit]:
    return list(SlaCredit.objects.select_related("tenant").order_by("-created_at")[:limit])


def credits_total_all_tenants() -> Decimal:
    return SlaCredit.objects.aggregate(s=Sum("amount"))["s"] or Decimal(0)


def meter_mismatches_all_tenants(*, limit: int = 50) -> list[MeterReconciliation]:
    """Recent days whose metered total still differs from Vigil's (after corrections)."""
    rows = MeterReconciliation.objects.select_related("tenant").order_by("-day")[:500]
    return [r for r in rows if r.difference_micros != 0][:limit]


def meter_events_failing_all_tenants(*, limit: int = 50) -> list[MeterEventRecord]:
    """Pending meter events whose last attempt failed or that wait for an ops decision."""
    return list(
        MeterEventRecord.objects.select_related("tenant")
        .filter(status=SendStatus.PENDING)
        .exclude(last_error="")
        .order_by("hour")[:limit]
    )
