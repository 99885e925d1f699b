"""Cross-tenant reads of the ops console against each tenant's raw events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from metrics.selectors.ops import daily_usage_all_tenants, tenant_metrics_all_tenants
from tenants.models import Tenant

from .factories import add_events


def test_tenant_metrics_side_by_side(tenant: Tenant, other_tenant: Tenant) -> None:
    now = datetime.now(tz=UTC).replace(minute=30, second=0, microsecond=0)
    today_start = now.replace(hour=0, minute=0)
    add_events(
        tenant,
        [
            {"timestamp": now - timedelta(minutes=5), "cost_usd": "3", "latency_ms": 4000.0},
            {"timestamp": now - timedelta(minutes=6), "cost_usd": "1", "status": "error"},
            {"timestamp": today_start - timedelta(weeks=1) + timedelta(hours=1), "cost_usd": "8"},
            {"timestamp": today_start - timedelta(weeks=2) + timedelta(hours=1), "cost_usd": "4"},
        ],
    )
    add_events(other_tenant, [{"timestamp": now - timedelta(minutes=1), "cost_usd": "0.5"}])
    rows = {r.slug: r for r in tenant_metrics_all_tenants(now=now)}
    alpha, beta = rows["alpha"], rows["beta"]
    assert alpha.spend_today == Decimal("4")
    assert alpha.projected_today == Decimal("6")  # mean of the same weekday, 1 and 2 weeks ago
    elapsed = (now - today_start) / timedelta(days=1)
    assert alpha.spend_vs_projection is not None
    assert abs(alpha.spend_vs_projection - 4 / (6 * max(elapsed, 1 / 24))) < 1e-9
    assert alpha.requests_24h == 2 and alpha.error_rate_24h == 0.5
    assert alpha.p99_ms_24h is not None and 3900 < alpha.p99_ms_24h < 4100
    expected_mtd = Decimal("4") + sum(
        (
            Decimal(c)
            for c, d in (("8", 1), ("4", 2))
            if (today_start - timedelta(weeks=d)).month == now.month
        ),
        Decimal(0),
    )
    assert alpha.month_to_date == expected_mtd
    assert beta.spend_today == Decimal("0.5") and beta.projected_today is None
    usage = daily_usage_all_tenants(start=now.date(), end=now.date())
    assert {(u["tenant_slug"], u["cost_usd"]) for u in usage} >= {
        ("alpha", Decimal("4")),
        ("beta", Decimal("0.5")),
    }
