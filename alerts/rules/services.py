"""Writes on alert rules (validated, audited) and the default rule set of a tenant."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from alerts.rules.models import (
    SCOPE_DIMENSIONS,
    AlertRule,
    AlertSettings,
    Channel,
    Comparison,
    Metric,
    NoData,
    SplitBy,
)
from compliance.services import audit_record
from core.exceptions import ApplicationError
from core.services import model_update

RULE_FIELDS = [
    "name",
    "description",
    "metric",
    *SCOPE_DIMENSIONS,
    "split_by",
    "window_minutes",
    "comparison",
    "warning_threshold",
    "critical_threshold",
    "for_evaluations",
    "min_samples",
    "no_data",
    "repeat_minutes",
    "hysteresis_pct",
    "enabled",
]
LIMITS = {
    "window_minutes": (1, 43_200),
    "for_evaluations": (1, 1440),
    "min_samples": (0, 1_000_000_000),
    "repeat_minutes": (0, 10_080),
}
NO_THRESHOLD_METRICS = {"slo_burn"}
MAX_LENGTHS = {
    "name": 200,
    "description": 500,
    "feature": 128,
    "endpoint": 256,
    "model": 128,
    "provider": 64,
    "customer": 128,
    "content_category": 128,
}


def _slug() -> str:
    return str(getattr(connection, "schema_name", "public"))


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _as_float(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return number


def rule_clean(data: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise rule fields (a full set: defaults are filled in)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, limit in MAX_LENGTHS.items():
        value = str(data.get(name) or "").strip()
        if len(value) > limit:
            errors[name] = f"At most {limit} characters."
        out[name] = value
    if not out["name"]:
        errors["name"] = "Give the rule a name."
    for name, choices in (
        ("metric", Metric.values),
        ("comparison", Comparison.values),
        ("no_data", NoData.values),
        ("split_by", SplitBy.values),
    ):
        value = str(data.get(name) or "")
        if name == "comparison" and not value:
            value = "gt"
        if name == "no_data" and not value:
            value = "ok"
        if value not in choices:
            errors[name] = f"One of: {', '.join(v for v in choices if v) or 'none'}."
        out[name] = value
    defaults = {"window_minutes": 15, "for_evaluations": 1, "min_samples": 0, "repeat_minutes": 240}
    for name, (low, high) in LIMITS.items():
        raw = data.get(name, defaults[name])
        number = _as_int(defaults[name] if raw in (None, "") else raw)
        if number is None or not low <= number <= high:
            errors[name] = f"A whole number from {low} to {high}."
        out[name] = number
    for name in ("warning_threshold", "critical_threshold", "hysteresis_pct"):
        try:
            out[name] = _as_float(data.get(name))
        except ValueError:
            errors[name] = "A number."
            out[name] = None
    if out["hysteresis_pct"] is None:
        out["hysteresis_pct"] = 10.0
    elif not 0 <= out["hysteresis_pct"] <= 100:
        errors["hysteresis_pct"] = "From 0 to 100."
    warn, crit = out["warning_threshold"], out["critical_threshold"]
    if out.get("metric") not in NO_THRESHOLD_METRICS and warn is None and crit is None:
        errors["warning_threshold"] = "Set a warning or a critical threshold (or both)."
    if warn is not None and crit is not None and "comparison" not in errors:
        worse = crit >= warn if out["comparison"] in ("gt", "gte") else crit <= warn
        if not worse:
            errors["critical_threshold"] = "The critical level must be beyond the warning level."
    out["enabled"] = bool(data.get("enabled", True))
    if errors:
        raise ApplicationError("Invalid alert rule.", details=errors)
    return out


def _channels(ids: Any) -> list[Channel]:
    if ids is None:
        return []
    if not isinstance(ids, list | tuple) or not all(_as_int(i) is not None for i in ids):
        raise ApplicationError("Invalid alert rule.", details={"channels": "A list of ids."})
    wanted = {int(i) for i in ids}
    found = list(Channel.objects.filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise ApplicationError("Invalid alert rule.", details={"channels": "Unknown channel."})
    return found


def _snapshot(rule: AlertRule) -> dict[str, Any]:
    snap = {f: getattr(rule, f) for f in RULE_FIELDS}
    snap["channels"] = sorted(c.pk for c in rule.channels.all())
    return snap


@transaction.atomic
def alert_rule_create(
    *,
    data: dict[str, Any],
    channel_ids: list[int] | None = None,
    is_default: bool = False,
    budget_id: int | None = None,
    slo_id: int | None = None,
) -> AlertRule:
    clean = rule_clean(data)
    channels = _channels(channel_ids)
    if clean["metric"] in ("budget_used", "monthly_forecast") and budget_id is None:
        raise ApplicationError(
            "Invalid alert rule.", details={"metric": "Budget rules are created with a budget."}
        )
    if clean["metric"] == "slo_burn" and slo_id is None:
        raise ApplicationError(
            "Invalid alert rule.", details={"metric": "Burn-rate rules are created with an SLO."}
        )
    rule = AlertRule.objects.create(
        **clean, is_default=is_default, budget_id=budget_id, slo_id=slo_id
    )
    rule.channels.set(channels)
    audit_record(
        tenant_slug=_slug(),
        action="alerts.rule_created",
        object_type="alert_rule",
        object_id=rule.pk,
        after=_snapshot(rule),
    )
    return rule


@transaction.atomic
def alert_rule_update(
    *, rule: AlertRule, data: dict[str, Any], channel_ids: list[int] | None = None
) -> AlertRule:
    rule = AlertRule.objects.select_for_update().get(pk=rule.pk)
    before_all = _snapshot(rule)
    merged = {**{f: getattr(rule, f) for f in RULE_FIELDS}, **data}
    if rule.budget_id or rule.slo_id:
        merged["metric"] = rule.metric  # a policy's rule keeps its metric
    clean = rule_clean(merged)
    rule, _, _ = model_update(instance=rule, fields=RULE_FIELDS, data=clean)
    if channel_ids is not None:
        rule.channels.set(_channels(channel_ids))
    after_all = _snapshot(rule)
    if before_all != after_all:
        audit_record(
            tenant_slug=_slug(),
            action="alerts.rule_updated",
            object_type="alert_rule",
            object_id=rule.pk,
            before={k: v for k, v in before_all.items() if after_all.get(k) != v},
            after={k: v for k, v in after_all.items() if before_all.get(k) != v},
        )
    return rule


@transaction.atomic
def alert_rule_delete(*, rule: AlertRule) -> None:
    audit_record(
        tenant_slug=_slug(),
        action="alerts.rule_deleted",
        object_type="alert_rule",
        object_id=rule.pk,
        before=_snapshot(rule),
    )
    rule.delete()


DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "name": "Daily spend above projection",
        "metric": "spend_vs_projection",
        "split_by": "feature",
        "window_minutes": 60,
        "comparison": "gt",
        "warning_threshold": 20,
        "critical_threshold": 50,
        "for_evaluations": 5,
        "min_samples": 10,
        "description": "Spend runs 20% above the same-weekday projection.",
    },
    {
        "name": "p99 latency above SLO",
        "metric": "latency_p99",
        "split_by": "feature",
        "window_minutes": 15,
        "comparison": "gt",
        "warning_threshold": 5000,
        "critical_threshold": 10000,
        "for_evaluations": 5,
        "min_samples": 50,
    },
    {
        "name": "Error rate surge",
        "metric": "error_rate",
        "split_by": "feature",
        "window_minutes": 15,
        "comparison": "gt",
        "warning_threshold": 5,
        "critical_threshold": 20,
        "for_evaluations": 3,
        "min_samples": 50,
    },
    {
        "name": "Fallback surge",
        "metric": "fallback_rate",
        "split_by": "feature",
        "window_minutes": 15,
        "comparison": "gt",
        "warning_threshold": 10,
        "critical_threshold": 30,
        "for_evaluations": 3,
        "min_samples": 50,
    },
    {
        "name": "Provider availability drop",
        "metric": "availability",
        "split_by": "provider",
        "window_minutes": 15,
        "comparison": "lt",
        "warning_threshold": 97,
        "critical_threshold": 90,
        "for_evaluations": 3,
        "min_samples": 100,
    },
    {
        "name": "Quality drop in a category",
        "metric": "quality_finding",
        "window_minutes": 60,
        "comparison": "gt",
        "warning_threshold": 5,
        "critical_threshold": 10,
        "for_evaluations": 1,
        "no_data": "ok",
    },
    {
        "name": "Policy violation spike",
        "metric": "violation_count",
        "split_by": "feature",
        "window_minutes": 60,
        "comparison": "gt",
        "warning_threshold": 10,
        "critical_threshold": 50,
        "for_evaluations": 2,
    },
]


@transaction.atomic
def alert_rules_create_defaults(*, channel_ids: list[int] | None = None) -> list[AlertRule]:
    """Create the default rule set in the current tenant (each rule then editable)."""
    settings_row, _ = AlertSettings.objects.select_for_update().get_or_create(pk=1)
    rules = [
        alert_rule_create(data=dict(spec), channel_ids=channel_ids, is_default=True)
        for spec in DEFAULT_RULES
    ]
    AlertSettings.objects.filter(pk=settings_row.pk).update(defaults_created_at=timezone.now())
    return rules


def alert_rules_ensure_defaults() -> bool:
    """Create the defaults once per tenant (the evaluation task calls this; True if created)."""
    if AlertSettings.objects.filter(defaults_created_at__isnull=False).exists():
        return False
    with transaction.atomic():
        row, _ = AlertSettings.objects.select_for_update().get_or_create(pk=1)
        if row.defaults_created_at is not None:
            return False
        alert_rules_create_defaults()
    return True
