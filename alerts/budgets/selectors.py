"""What a tenant (read-only) and ops see of a budget: spend so far, projection, forecast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from alerts.budgets.check import spend_compute
from alerts.budgets.models import Budget
from alerts.budgets.projection import profiles_for_day
from alerts.evaluation.values import month_forecast


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    spent_today: Decimal
    spent_month: Decimal
    expected_by_now: float | None  # projection of today's spend up to now
    expected_today: float | None
    month_forecast: Decimal

    @property
    def daily_used_pct(self) -> float | None:
        if not self.budget.daily_usd:
            return None
        return float(self.spent_today / self.budget.daily_usd * 100)

    @property
    def monthly_used_pct(self) -> float | None:
        if not self.budget.monthly_usd:
            return None
        return float(self.spent_month / self.budget.monthly_usd * 100)

    @property
    def vs_projection_pct(self) -> float | None:
        if not self.expected_by_now:
            return None
        return (float(self.spent_today) / self.expected_by_now - 1) * 100


def budget_statuses(*, now: datetime | None = None) -> list[BudgetStatus]:
    now = now or datetime.now(tz=UTC)
    out = []
    for budget in Budget.objects.order_by("feature"):
        scope = {"feature": budget.feature} if budget.feature else {}
        day, month = spend_compute(feature=budget.feature, now=now)
        profile = profiles_for_day(day=now.date(), scope=scope, split_by="").get("")
        out.append(
            BudgetStatus(
                budget=budget,
                spent_today=day,
                spent_month=month,
                expected_by_now=profile.at(now, now.date()) if profile else None,
                expected_today=profile.day_total if profile else None,
                month_forecast=month_forecast(now=now, scope=scope, month_spend=month),
            )
        )
    return out
