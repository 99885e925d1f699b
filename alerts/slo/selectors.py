"""Error budgets and the monthly SLA compliance report (billing turns breaches into credits).

`sla_report_all_tenants(month=...)` is the entry point for billing; it reads
every active tenant's SLOs and hourly rollups. Breach minutes are counted at
the rollups' hour resolution: an hour whose own SLI misses the objective
counts as 60 minutes of breach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django_tenants.utils import schema_context, tenant_context

from alerts.evaluation.aggregates import Agg
from alerts.evaluation.data import HOUR, Selection, floor_hour, rollup_sums, tenant_data_load
from alerts.evaluation.values import slo_allowed_fraction
from alerts.slo.burn import bad_and_total
from alerts.slo.models import Slo
from core.db import tenant_connection


@dataclass(frozen=True)
class SloStatus:
    slo: Slo
    requests: int
    bad: int
    attained_pct: float | None  # share of good events, percent
    budget_consumed: float  # fraction of the error budget spent (may exceed 1)

    @property
    def budget_remaining(self) -> float:
        return 1.0 - self.budget_consumed

    @property
    def met(self) -> bool:
        return self.budget_consumed <= 1.0


@dataclass(frozen=True)
class SlaReportLine:
    tenant_slug: str
    slo_id: int
    slo_name: str
    kind: str
    target: float
    feature: str
    month: date
    requests: int
    bad_events: int
    attained_pct: float | None
    met: bool
    breach_minutes: int
    budget_consumed: float


def _status(slo: Slo, agg: Agg) -> SloStatus:
    bad, total = bad_and_total(slo.kind, slo.target, agg)
    allowed = slo_allowed_fraction(slo.kind, slo.target)
    attained = 100.0 * (total - bad) / total if total else None
    consumed = (bad / total) / allowed if total else 0.0
    return SloStatus(
        slo=slo, requests=total, bad=bad, attained_pct=attained, budget_consumed=consumed
    )


def slo_statuses(*, now: datetime | None = None) -> list[SloStatus]:
    """Each SLO of the current tenant over its rolling window ending now."""
    now = now or datetime.now(tz=UTC)
    slos = list(Slo.objects.filter(enabled=True).order_by("name", "pk"))
    if not slos:
        return []
    data = tenant_data_load(now=now, dims=("feature",), histograms=("latency",))
    out = []
    for slo in slos:
        scope = (("feature", slo.feature),) if slo.feature else ()
        start = now - timedelta(days=slo.window_days)
        sel = Selection(scope=scope, split_by="", start=start, histograms=("latency",))
        out.append(_status(slo, data.window(sel).get("", Agg())))
    return out


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def sla_report_for_tenant(*, tenant_slug: str, month: date) -> list[SlaReportLine]:
    """The current tenant's SLOs over a calendar month (UTC), from the hourly rollups."""
    start, end = _month_bounds(month)
    end = min(end, floor_hour(datetime.now(tz=UTC)) + HOUR)
    lines = []
    for slo in Slo.objects.filter(enabled=True).order_by("name", "pk"):
        scope = {"feature": slo.feature} if slo.feature else {}
        hours = rollup_sums(
            scope=scope, split_by="", start=start, end=end, histograms=("latency",), by_hour=True
        )
        total = Agg()
        breached_hours = 0
        for agg in hours.values():
            total.add(agg)
            bad, n = bad_and_total(slo.kind, slo.target, agg)
            if n and bad / n > slo_allowed_fraction(slo.kind, slo.target):
                breached_hours += 1
        status = _status(slo, total)
        lines.append(
            SlaReportLine(
                tenant_slug=tenant_slug,
                slo_id=slo.pk,
                slo_name=slo.name,
                kind=slo.kind,
                target=slo.target,
                feature=slo.feature,
                month=start.date(),
                requests=status.requests,
                bad_events=status.bad,
                attained_pct=status.attained_pct,
                met=status.met,
                breach_minutes=breached_hours * 60,
                budget_consumed=status.budget_consumed,
            )
        )
    return lines


def sla_report_all_tenants(*, month: date) -> list[SlaReportLine]:
    """SLA compliance of every active tenant for `month` (ops and billing only)."""
    from tenants.models import Tenant

    with schema_context("public"):
        tenants = list(Tenant.objects.filter(status="active").exclude(schema_name="public"))
    lines: list[SlaReportLine] = []
    for tenant in tenants:
        with tenant_context(tenant):
            lines.extend(sla_report_for_tenant(tenant_slug=tenant.schema_name, month=month))
    tenant_connection().set_schema_to_public()
    return lines
