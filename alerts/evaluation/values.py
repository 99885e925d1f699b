"""A rule's current value per split key, and the level it stands at.

Plain metrics come from the window's aggregates; spend against projection,
budget use, the month-end forecast, SLO burn rates and quality findings have
their own readers here. Every reader returns {split_key: Outcome}.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from alerts.budgets.projection import day_total_expected, expected_between, profiles_for_day
from alerts.evaluation.aggregates import PERCENTILE_METRICS, Agg, metric_value, samples
from alerts.evaluation.data import Selection, TenantData, ceil_hour
from alerts.rules.models import AlertRule
from alerts.slo.burn import BURN_WINDOWS, bad_and_total

LEVELS = ("ok", "warning", "critical")


@dataclass
class Outcome:
    value: float | None
    samples: int
    level: str = "ok"  # ok | warning | critical | nodata
    clear: bool = True  # back past the threshold by the hysteresis margin
    threshold: float | None = None


def breached(value: float, threshold: float | None, comparison: str) -> bool:
    if threshold is None:
        return False
    return {
        "gt": value > threshold,
        "gte": value >= threshold,
        "lt": value < threshold,
        "lte": value <= threshold,
    }[comparison]


def _cleared(rule: AlertRule, value: float) -> bool:
    threshold = (
        rule.warning_threshold if rule.warning_threshold is not None else rule.critical_threshold
    )
    if threshold is None:
        return True
    # The band is a share of the threshold, or for availability (bounded by 100%) a share
    # of the distance to 100%, so a 99% threshold clears above 99.1%, not above 108.9%.
    scale = 100.0 - threshold if rule.metric == "availability" else abs(threshold)
    margin = scale * rule.hysteresis_pct / 100.0
    if rule.comparison in ("gt", "gte"):
        return value < threshold - margin or (threshold == 0 and value <= 0)
    return value > threshold + margin


def judge(rule: AlertRule, value: float | None, n: int) -> Outcome:
    """Level of a value against the rule's thresholds (no data below min_samples)."""
    if value is None or n < max(rule.min_samples, 1 if value is None else 0):
        return Outcome(value=value, samples=n, level="nodata", clear=False)
    level = "ok"
    threshold = rule.warning_threshold
    if breached(value, rule.critical_threshold, rule.comparison):
        level, threshold = "critical", rule.critical_threshold
    elif breached(value, rule.warning_threshold, rule.comparison):
        level = "warning"
    return Outcome(
        value=value,
        samples=n,
        level=level,
        clear=level == "ok" and _cleared(rule, value),
        threshold=threshold if threshold is not None else rule.critical_threshold,
    )


def selection(rule: AlertRule, *, start: datetime, histograms: tuple[str, ...] = ()) -> Selection:
    return Selection(
        scope=tuple(sorted(rule.scope().items())),
        split_by=rule.split_by,
        start=start,
        histograms=histograms,
    )


def histograms_for(metric: str) -> tuple[str, ...]:
    return (PERCENTILE_METRICS[metric][0],) if metric in PERCENTILE_METRICS else ()


def rule_outcomes(rule: AlertRule, data: TenantData, ctx: dict[str, Any]) -> dict[str, Outcome]:
    metric = rule.metric
    now = data.now
    if metric == "spend_vs_projection":
        return _projection(rule, data)
    if metric in ("budget_used", "monthly_forecast"):
        return _budget(rule, data)
    if metric == "slo_burn":
        return _slo_burn(rule, data)
    if metric == "quality_finding":
        return _findings(rule, ctx)
    start = now - timedelta(minutes=rule.window_minutes)
    aggs = data.window(selection(rule, start=start, histograms=histograms_for(metric)))
    return {
        key: judge(rule, metric_value(metric, agg), samples(metric, agg))
        for key, agg in aggs.items()
    }


def _day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _projection(rule: AlertRule, data: TenantData) -> dict[str, Outcome]:
    """Percent above projection: the worse of the run rate over the window and the day so far.

    The window compares the last `window_minutes` with the expected spend of
    the same clock interval, which catches an overrun that started this
    morning within about one window; the day-so-far ratio catches a slow
    creep. Each ratio counts only once its expected spend is material (2% of
    a typical day for the window, 10% for the day so far).
    """
    now = data.now
    scope = rule.scope()
    start = now - timedelta(minutes=rule.window_minutes)
    window = data.window(selection(rule, start=start))
    day = data.window(selection(rule, start=_day_start(now)))
    expected_w = expected_between(start=start, end=now, scope=scope, split_by=rule.split_by)
    expected_d = expected_between(
        start=_day_start(now), end=now, scope=scope, split_by=rule.split_by
    )
    totals = day_total_expected(day=now.date(), scope=scope, split_by=rule.split_by)
    out: dict[str, Outcome] = {}
    for key in set(window) | set(expected_w):
        total = totals.get(key, 0.0)
        ratios: list[float] = []
        exp_w = expected_w.get(key, 0.0)
        if total > 0 and exp_w >= 0.02 * total:
            ratios.append(float(window.get(key, Agg()).cost) / exp_w)
        exp_d = expected_d.get(key, 0.0)
        if total > 0 and exp_d >= 0.10 * total:
            ratios.append(float(day.get(key, Agg()).cost) / exp_d)
        value = (max(ratios) - 1.0) * 100.0 if ratios else None
        out[key] = judge(rule, value, window.get(key, Agg()).requests)
    return out


def _month_start(now: datetime) -> datetime:
    return _day_start(now).replace(day=1)


def _budget(rule: AlertRule, data: TenantData) -> dict[str, Outcome]:
    """Budget used (% of the daily and monthly amounts) or the month-end forecast (%)."""
    budget = rule.budget
    if budget is None:
        return {}
    now = data.now
    scope = {"feature": budget.feature} if budget.feature else {}
    sel_day = Selection(scope=tuple(scope.items()), split_by="", start=_day_start(now))
    sel_month = Selection(scope=tuple(scope.items()), split_by="", start=_month_start(now))
    day_agg = data.window(sel_day).get("", Agg())
    month_agg = data.window(sel_month).get("", Agg())
    if rule.metric == "budget_used":
        used: list[float] = []
        if budget.daily_usd:
            used.append(float(day_agg.cost / budget.daily_usd) * 100)
        if budget.monthly_usd:
            used.append(float(month_agg.cost / budget.monthly_usd) * 100)
        return {"": judge(rule, max(used) if used else None, month_agg.requests)}
    if not budget.monthly_usd:
        return {}
    forecast = month_forecast(now=now, scope=scope, month_spend=month_agg.cost)
    value = float(forecast / budget.monthly_usd) * 100
    return {"": judge(rule, value, month_agg.requests)}


def month_forecast(*, now: datetime, scope: dict[str, str], month_spend: Decimal) -> Decimal:
    """Spend so far this month plus the projection for the rest of today and each day left."""
    today = now.date()
    profile = profiles_for_day(day=today, scope=scope, split_by="").get("")
    rest = 0.0
    if profile is not None:
        rest += max(0.0, profile.day_total - profile.at(now, today))
    next_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    day: date = today + timedelta(days=1)
    while day < next_month:
        rest += day_total_expected(day=day, scope=scope).get("", 0.0)
        day += timedelta(days=1)
    return month_spend + Decimal(str(round(rest, 6)))


def _slo_burn(rule: AlertRule, data: TenantData) -> dict[str, Outcome]:
    """Multi-window, multi-burn-rate (SRE workbook): a pair fires when both windows burn."""
    slo = rule.slo
    if slo is None or not slo.enabled:
        return {}
    scope = {"feature": slo.feature} if slo.feature else {}
    hist = ("latency",) if slo.kind == "latency_p99" else ()
    allowed = slo_allowed_fraction(slo.kind, slo.target)
    burns: dict[int, float] = {}
    total_long = 0
    for minutes in sorted({m for pair in BURN_WINDOWS for m in pair[:2]}):
        start = data.now - timedelta(minutes=minutes)
        if minutes > 120:
            start = ceil_hour(start)
        agg = data.window(
            Selection(scope=tuple(scope.items()), split_by="", start=start, histograms=hist)
        ).get("", Agg())
        bad, total = bad_and_total(slo.kind, slo.target, agg)
        burns[minutes] = (bad / total) / allowed if total else 0.0
        total_long = max(total_long, total)
    level, value = "ok", max(burns[pair[0]] for pair in BURN_WINDOWS)
    for long_w, short_w, factor, severity in BURN_WINDOWS:
        firing = burns[long_w] > factor and burns[short_w] > factor
        if firing and LEVELS.index(severity) > LEVELS.index(level):
            level, value = severity, burns[long_w]
    if total_long < max(rule.min_samples, 1):
        return {"": Outcome(value=None, samples=total_long, level="nodata", clear=False)}
    return {"": Outcome(value=value, samples=total_long, level=level, clear=level == "ok")}


def slo_allowed_fraction(kind: str, target: float) -> float:
    if kind == "availability":
        return max(1e-6, 1.0 - target / 100.0)
    return 0.01  # p99 under X ms: at most 1% of calls may be slower


def _findings(rule: AlertRule, ctx: dict[str, Any]) -> dict[str, Outcome]:
    """Active quality findings (drift, judge agreement), size in points, per feature/category."""
    from alerts.evaluation.findings import active_quality_findings

    findings = ctx.get("findings")
    if findings is None:
        findings = ctx["findings"] = active_quality_findings()
    out: dict[str, Outcome] = {}
    for finding in findings:
        if rule.feature and finding["feature"] != rule.feature:
            continue
        if rule.content_category and finding["content_category"] != rule.content_category:
            continue
        key = f"{finding['kind']}:{finding['feature']}/{finding['content_category']}"
        out[key] = judge(rule, abs(finding["delta_points"]), 1)
    return out


def now_utc() -> datetime:
    return datetime.now(tz=UTC)
