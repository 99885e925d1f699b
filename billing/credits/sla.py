"""SLA breaches as billing sees them, and the credit schedule.

Billing depends on a small protocol (`SlaBreach`) rather than on the alerts
report's shape: `sla_breaches(month=...)` adapts alerts.slo's monthly report
(`sla_report_all_tenants`) and applies the credit schedule below, one
breach per tenant and month (the worst of its SLOs, all of them named in the reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

# Share of the error budget consumed over the month -> credit percent of the month's charge.
CREDIT_SCHEDULE: tuple[tuple[float, Decimal], ...] = (
    (5.0, Decimal("50")),
    (2.0, Decimal("25")),
    (1.0, Decimal("10")),
)


@dataclass(frozen=True)
class SlaBreach:
    tenant_slug: str
    month: date  # first day
    breached: bool
    breach_minutes: Decimal
    credit_percent: Decimal
    slo_name: str = ""
    reason: str = ""


def credit_percent_for(budget_consumed: float) -> Decimal:
    for threshold, percent in CREDIT_SCHEDULE:
        if budget_consumed > threshold:
            return percent
    return Decimal(0)


def breaches_from_report(lines: list[Any], *, month: date) -> list[SlaBreach]:
    """Fold report lines (tenant_slug, slo_name, met, breach_minutes, budget_consumed,
    attained_pct, target) into one breach per tenant."""
    by_tenant: dict[str, list[Any]] = {}
    for line in lines:
        if not line.met:
            by_tenant.setdefault(line.tenant_slug, []).append(line)
    out = []
    for slug, missed in sorted(by_tenant.items()):
        worst = max(missed, key=lambda ln: ln.budget_consumed)
        percent = credit_percent_for(float(worst.budget_consumed))
        if percent <= 0:
            continue
        names = ", ".join(
            f"{ln.slo_name} ({ln.attained_pct or 0:.2f}% vs {ln.target:g}, "
            f"{ln.breach_minutes} breach minutes)"
            for ln in missed
        )
        out.append(
            SlaBreach(
                tenant_slug=slug,
                month=month.replace(day=1),
                breached=True,
                breach_minutes=Decimal(sum(int(ln.breach_minutes) for ln in missed)),
                credit_percent=percent,
                slo_name=worst.slo_name,
                reason=f"SLA credit {percent}% for {month:%B %Y}: missed {names}"[:500],
            )
        )
    return out


def sla_breaches(*, month: date) -> list[SlaBreach]:
    """Breaches of every active tenant in `month`, from the alerts SLA report."""
    from alerts.slo.selectors import sla_report_all_tenants

    return breaches_from_report(sla_report_all_tenants(month=month), month=month)
