"""Cross-tenant billing reads for the ops console (names say `_all_tenants`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from billing.statements.compute import MonthToDate, month_to_date
from billing.statements.models import Statement
from billing.stripe.models import BillingAccount, MeterReconciliation, SlaCredit
from tenants.selectors import tenants_list


@dataclass(frozen=True)
class TenantBillingRow:
    slug: str
    name: str
    status: str
    mtd: MonthToDate
    last_statement: Statement | None
    account: BillingAccount | None

    @property
    def unpaid(self) -> bool:
        return bool(self.account and self.account.payment_failed)


def billing_overview_all_tenants(*, now: datetime | None = None) -> list[TenantBillingRow]:
    now = now or datetime.now(tz=UTC)
    accounts = {a.tenant_id: a for a in BillingAccount.objects.all()}
    last: dict[int, Statement] = {}
    for statement in Statement.objects.order_by("tenant_id", "-period_start"):
        last.setdefault(statement.tenant_id, statement)
    rows = [
        TenantBillingRow(
            slug=tenant.schema_name,
            name=tenant.name,
            status=tenant.status,
            mtd=month_to_date(tenant=tenant, now=now),
            last_statement=last.get(tenant.pk),
            account=accounts.get(tenant.pk),
        )
        for tenant in tenants_list()
    ]
    # Unpaid first, then by charge so far.
    rows.sort(key=lambda r: (not r.unpaid, -r.mtd.chargeback.usage_charge, r.slug))
    return rows


def credits_all_tenants(*, limit: int = 100) -> list[SlaCredit]:
    return list(SlaCredit.objects.select_related("tenant").order_by("-created_at")[:limit])


def credits_total_all_tenants() -> Decimal:
    from django.db.models import Sum

    return SlaCredit.objects.aggregate(s=Sum("amount"))["s"] or Decimal(0)


def meter_mismatches_all_tenants(*, limit: int = 50) -> list[MeterReconciliation]:
    """Recent days whose metered total still differs from Vigil's (after corrections)."""
    rows = MeterReconciliation.objects.select_related("tenant").order_by("-day")[:500]
    return [r for r in rows if r.difference_micros != 0][:limit]
