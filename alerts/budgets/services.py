"""Budgets are set by platform ops (audited in the tenant's chain); each brings its rules."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction

from alerts.budgets.models import Budget
from alerts.cache import cache_key
from alerts.rules.models import AlertRule
from alerts.rules.services import alert_rule_create, alert_rule_update
from compliance.services import audit_record
from core.exceptions import ApplicationError

MAX_USD = Decimal("1000000000")


def _slug() -> str:
    return str(getattr(connection, "schema_name", "public"))


def _money(value: Any, field: str, errors: dict[str, str]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors[field] = "An amount in USD."
        return None
    if not amount.is_finite() or amount <= 0 or amount > MAX_USD:
        errors[field] = "A positive amount up to 1,000,000,000."
        return None
    return amount


def _snapshot(budget: Budget) -> dict[str, Any]:
    return {
        "feature": budget.feature,
        "daily_usd": budget.daily_usd,
        "monthly_usd": budget.monthly_usd,
        "hard_cap": budget.hard_cap,
        "projection_tolerance_pct": budget.projection_tolerance_pct,
    }


def config_cache_key() -> str:
    return cache_key("budget-config")


def budget_config_invalidate() -> None:
    cache.delete(config_cache_key())


@transaction.atomic
def budget_set(
    *,
    feature: str = "",
    daily_usd: Any = None,
    monthly_usd: Any = None,
    hard_cap: bool = False,
    projection_tolerance_pct: Any = 20,
) -> Budget:
    """Create or change the tenant's (or a feature's) budget and its alert rules."""
    errors: dict[str, str] = {}
    feature = (feature or "").strip()
    if len(feature) > 128:
        errors["feature"] = "At most 128 characters."
    daily = _money(daily_usd, "daily_usd", errors)
    monthly = _money(monthly_usd, "monthly_usd", errors)
    try:
        tolerance = int(projection_tolerance_pct)
        if not 1 <= tolerance <= 1000:
            raise ValueError
    except (TypeError, ValueError):
        errors["projection_tolerance_pct"] = "A whole percentage from 1 to 1000."
        tolerance = 20
    if daily is None and monthly is None and not errors:
        errors["daily_usd"] = "Set a daily or a monthly amount."
    if errors:
        raise ApplicationError("Invalid budget.", details=errors)
    budget = Budget.objects.select_for_update().filter(feature=feature).first()
    before = _snapshot(budget) if budget else None
    if budget is None:
        budget = Budget(feature=feature)
    budget.daily_usd, budget.monthly_usd = daily, monthly
    budget.hard_cap, budget.projection_tolerance_pct = bool(hard_cap), tolerance
    budget.save()
    audit_record(
        tenant_slug=_slug(),
        action="alerts.budget_set",
        object_type="budget",
        object_id=feature or "tenant",
        before=before,
        after=_snapshot(budget),
    )
    _budget_rules(budget)
    transaction.on_commit(budget_config_invalidate)
    return budget


def _budget_rules(budget: Budget) -> None:
    label = f"feature {budget.feature}" if budget.feature else "tenant"
    scope = {"feature": budget.feature}
    specs = [
        {
            "name": f"Budget used ({label})",
            "metric": "budget_used",
            "window_minutes": 60,
            "comparison": "gte",
            "warning_threshold": 80,
            "critical_threshold": 100,
            "for_evaluations": 1,
            "repeat_minutes": 720,
            **scope,
        },
        {
            "name": f"Spend above projection ({label})",
            "metric": "spend_vs_projection",
            "window_minutes": 60,
            "comparison": "gt",
            "warning_threshold": budget.projection_tolerance_pct,
            "critical_threshold": max(50, budget.projection_tolerance_pct * 2),
            "for_evaluations": 5,
            "min_samples": 10,
            **scope,
        },
    ]
    if budget.monthly_usd:
        specs.append(
            {
                "name": f"Month-end forecast over budget ({label})",
                "metric": "monthly_forecast",
                "window_minutes": 60,
                "comparison": "gt",
                "warning_threshold": 100,
                "critical_threshold": 120,
                "for_evaluations": 15,
                "repeat_minutes": 1440,
                **scope,
            }
        )
    existing = {r.metric: r for r in AlertRule.objects.filter(budget=budget)}
    for spec in specs:
        rule = existing.get(str(spec["metric"]))
        if rule is None:
            alert_rule_create(data=spec, budget_id=budget.pk)
        elif spec["metric"] == "spend_vs_projection":
            alert_rule_update(
                rule=rule,
                data={k: spec[k] for k in ("warning_threshold", "critical_threshold")},
            )


@transaction.atomic
def budget_delete(*, budget: Budget) -> None:
    audit_record(
        tenant_slug=_slug(),
        action="alerts.budget_deleted",
        object_type="budget",
        object_id=budget.feature or "tenant",
        before=_snapshot(budget),
    )
    budget.delete()
    transaction.on_commit(budget_config_invalidate)
