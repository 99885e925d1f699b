"""Cross-tenant reads for the ops console (staff only). Every name says `_all_tenants`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django_tenants.utils import tenant_context

from metrics.rollups.models import DailyUsage
from metrics.selectors.filters import metrics_filter_for
from metrics.selectors.overview import overview
from tenants.selectors import tenants_list

ZERO = Decimal("0")


@dataclass(frozen=True)
class TenantMetricsRow:
    slug: str
    name: str
    status: str
    spend_today: Decimal
    projected_today: Decimal | None  # mean spend of the same weekday over the last 4 weeks
    # spend so far against the share of the projection the elapsed part of the day should take
    spend_vs_projection: float | None
    month_to_date: Decimal
    requests_24h: int
    p99_ms_24h: float | None
    error_rate_24h: float | None
    quality_24h: float | None
    violations_24h: int


def daily_spend_all_tenants(*, start: date, end: date) -> dict[str, dict[date, Decimal]]:
    """Cost per tenant and day for days in [start, end] from the public DailyUsage table."""
    rows = (
        DailyUsage.objects.filter(day__gte=start, day__lte=end)
        .values("tenant_slug", "day")
        .annotate(cost=Sum("cost_usd"))
    )
    out: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for r in rows:
        out[r["tenant_slug"]][r["day"]] = r["cost"] or ZERO
    return out


def daily_usage_all_tenants(*, start: date, end: date) -> list[dict[str, Any]]:
    """DailyUsage rows per tenant, day, feature and model (chargeback, billing, exports)."""
    return [
        dict(row)
        for row in DailyUsage.objects.filter(day__gte=start, day__lte=end)
        .order_by("tenant_slug", "day", "feature", "model")
        .values(
            "tenant_slug",
            "day",
            "feature",
            "model",
            "requests",
            "input_tokens",
            "output_tokens",
            "cached_input_tokens",
            "cost_usd",
            "error_count",
            "violation_count",
        )
    ]


def _projection(spend: dict[date, Decimal], today: date) -> Decimal | None:
    same_weekday = [
        spend[d] for d in (today - timedelta(weeks=w) for w in range(1, 5)) if d in spend
    ]
    if same_weekday:
        return sum(same_weekday, ZERO) / len(same_weekday)
    recent = [spend[d] for d in (today - timedelta(days=n) for n in range(1, 8)) if d in spend]
    return sum(recent, ZERO) / len(recent) if recent else None


def tenant_metrics_all_tenants(*, now: datetime | None = None) -> list[TenantMetricsRow]:
    """Every tenant side by side: spend today vs projection, month to date, last 24 h layers."""
    now = now or datetime.now(tz=UTC)
    today = now.date()
    spend = daily_spend_all_tenants(
        start=min(today.replace(day=1), today - timedelta(weeks=4)), end=today
    )
    elapsed = (now - datetime(today.year, today.month, today.day, tzinfo=UTC)) / timedelta(days=1)
    rows = []
    for tenant in tenants_list():
        days = spend.get(tenant.schema_name, {})
        spent = days.get(today, ZERO)
        projected = _projection(days, today)
        expected_so_far = float(projected) * max(elapsed, 1 / 24) if projected else None
        with tenant_context(tenant):
            ov = overview(metrics_filter_for(range_name="24h", now=now))
        rows.append(
            TenantMetricsRow(
                slug=tenant.schema_name,
                name=tenant.name,
                status=tenant.status,
                spend_today=spent,
                projected_today=projected,
                spend_vs_projection=float(spent) / expected_so_far if expected_so_far else None,
                month_to_date=sum((v for d, v in days.items() if d >= today.replace(day=1)), ZERO),
                requests_24h=ov.requests,
                p99_ms_24h=ov.get("p99_ms").value,  # type: ignore[arg-type]
                error_rate_24h=ov.get("error_rate").value,  # type: ignore[arg-type]
                quality_24h=ov.get("quality").value,  # type: ignore[arg-type]
                violations_24h=int(ov.get("violations").value or 0),
            )
        )
    return rows
