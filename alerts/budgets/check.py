"""The hard cap: may this tenant (or feature) spend now? Answered from Redis in well under 10 ms.

Two cached values per tenant: the budget configuration (dropped whenever ops
change a budget, so a raised budget allows again at once) and the spend so
far today and this month per scope. Spend is recomputed — hourly rollups for
the complete hours plus the raw events of the last one to two hours — when
its cache entry is older than VIGIL_BUDGET_REFRESH_MAX_S, or when ingestion
has written new events since (ingestion refreshes the current hour's
DirtyHour mark in the same transaction as the events; that mark is the
"spend changed" signal, read with one primary-key lookup), but never more
often than every VIGIL_BUDGET_REFRESH_MIN_S seconds. So the answer lags the
last accepted event by at most that minimum interval.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from alerts.budgets.models import Budget
from alerts.budgets.services import config_cache_key
from alerts.cache import cache_key
from alerts.evaluation.data import HOUR, Selection, floor_hour, rollup_window

CONFIG_TTL_S = 300


def _refresh_min() -> float:
    return float(getattr(settings, "VIGIL_BUDGET_REFRESH_MIN_S", 2.0))


def _refresh_max() -> float:
    return float(getattr(settings, "VIGIL_BUDGET_REFRESH_MAX_S", 60.0))


@dataclass
class Limit:
    scope: str  # "tenant" or "feature:<name>"
    period: str  # daily | monthly
    amount_usd: Decimal
    spent_usd: Decimal
    hard_cap: bool

    @property
    def remaining_usd(self) -> Decimal:
        return self.amount_usd - self.spent_usd


@dataclass
class Decision:
    allowed: bool
    remaining_usd: Decimal | None
    limits: list[Limit] = field(default_factory=list)
    reason: str = ""


def _config() -> list[dict[str, Any]]:
    config = cache.get(config_cache_key())
    if config is None:
        config = list(Budget.objects.values("feature", "daily_usd", "monthly_usd", "hard_cap"))
        cache.set(config_cache_key(), config, CONFIG_TTL_S)
    return list(config)


def _version(now: datetime) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT marked_at FROM metrics_dirtyhour WHERE hour = %s", [floor_hour(now)])
        row = cursor.fetchone()
    return row[0].isoformat() if row else ""


def spend_compute(*, feature: str, now: datetime) -> tuple[Decimal, Decimal]:
    """Spend today and this month (UTC) from rollups plus recent raw events."""
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    raw_start = floor_hour(now) - HOUR
    scope = (("feature", feature),) if feature else ()
    day = month = Decimal("0")
    for start, label in ((day_start, "day"), (month_start, "month")):
        if start < raw_start:
            sel = Selection(scope=scope, split_by="", start=start)
            agg = rollup_window(sel, start=start, end=raw_start).get("")
            if agg is not None:
                if label == "day":
                    day += agg.cost
                else:
                    month += agg.cost
    where = "timestamp >= %s AND timestamp < %s" + (" AND feature = %s" if feature else "")
    end = day_start + timedelta(days=1)
    with connection.cursor() as cursor:
        params: list[Any] = [max(raw_start, month_start), end, *([feature] if feature else [])]
        sql = (
            "SELECT COALESCE(sum(cost_usd) FILTER (WHERE timestamp >= %s), 0), "  # noqa: S608
            f"COALESCE(sum(cost_usd), 0) FROM metrics_event WHERE {where}"
        )
        cursor.execute(sql, [max(raw_start, day_start), *params])
        raw_day, raw_month = cursor.fetchone()
    return day + raw_day, month + raw_month


def _spend(feature: str, now: datetime) -> tuple[Decimal, Decimal]:
    key = cache_key("spend", feature, now.date().isoformat())
    cached = cache.get(key)
    clock = time.time()
    if cached is not None:
        age = clock - cached["at"]
        if age < _refresh_min():
            return cached["day"], cached["month"]
        if age < _refresh_max() and cached["version"] == _version(now):
            return cached["day"], cached["month"]
    version = _version(now)
    day, month = spend_compute(feature=feature, now=now)
    cache.set(key, {"day": day, "month": month, "version": version, "at": clock}, 3600)
    return day, month


def budget_check(
    *, feature: str = "", estimate_usd: Decimal = Decimal("0"), now: datetime | None = None
) -> Decision:
    now = now or datetime.now(tz=UTC)
    limits: list[Limit] = []
    for budget in _config():
        if budget["feature"] and budget["feature"] != feature:
            continue
        day, month = _spend(budget["feature"], now)
        scope = f"feature:{budget['feature']}" if budget["feature"] else "tenant"
        for period, amount, spent in (
            ("daily", budget["daily_usd"], day),
            ("monthly", budget["monthly_usd"], month),
        ):
            if amount is not None:
                limits.append(Limit(scope, period, Decimal(amount), spent, budget["hard_cap"]))
    if not limits:
        return Decision(allowed=True, remaining_usd=None, limits=[])
    remaining = min(limit.remaining_usd for limit in limits)
    for limit in limits:
        if limit.hard_cap and (limit.remaining_usd <= 0 or limit.remaining_usd < estimate_usd):
            return Decision(
                allowed=False,
                remaining_usd=max(Decimal("0"), remaining),
                limits=limits,
                reason=f"{limit.period} budget of {limit.scope} reached",
            )
    return Decision(allowed=True, remaining_usd=max(Decimal("0"), remaining), limits=limits)
