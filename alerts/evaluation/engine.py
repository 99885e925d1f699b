"""One evaluation cycle for the current tenant: claim the minute, read once, judge every rule.

Idempotent: a rule is evaluated at most once per evaluation minute — the
cycle claims its rules with one UPDATE ... WHERE last_evaluated_at < minute,
so a duplicate or concurrent run for the same minute finds nothing to do.
Only "now" is ever evaluated: after an outage the engine does not replay the
minutes it missed (that would be a storm of stale alerts); a gap also resets
the `for` counters, since evaluations either side of it are not consecutive.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from alerts.evaluation.data import floor_minute, tenant_data_load
from alerts.evaluation.values import Outcome, histograms_for, rule_outcomes
from alerts.incidents.models import Incident, IncidentStatus
from alerts.incidents.services import (
    incident_escalate,
    incident_open,
    incident_resolve_auto,
    notifications_queue,
)
from alerts.rules.models import SCOPE_DIMENSIONS, AlertRule, RuleState

GAP = timedelta(minutes=3)  # evaluations further apart than this are not consecutive
SLO_DIMS: tuple[str, ...] = ("feature",)


@dataclass
class CycleResult:
    rules: int
    opened: int
    resolved: int
    notified: int
    seconds: float


def _claim(minute: datetime) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE alerts_alertrule SET last_evaluated_at = %s WHERE enabled "
            "AND (last_evaluated_at IS NULL OR last_evaluated_at < %s) RETURNING id",
            [minute, minute],
        )
        return [row[0] for row in cursor.fetchall()]


def evaluate_tenant(*, now: datetime, gap: timedelta = GAP) -> CycleResult:
    """Evaluate every enabled rule of the current tenant at `now` (aware UTC).

    `gap`: evaluations further apart than this do not count as consecutive (a replay
    that steps slower than once a minute passes its step plus a little).
    """
    started = time.monotonic()
    minute = floor_minute(now)
    result = CycleResult(rules=0, opened=0, resolved=0, notified=0, seconds=0.0)
    with transaction.atomic():
        ids = _claim(minute)
        if not ids:
            result.seconds = time.monotonic() - started
            return result
        rules = list(
            AlertRule.objects.filter(pk__in=ids).select_related("budget", "slo").order_by("pk")
        )
        dims: set[str] = set()
        hists: set[str] = set()
        for rule in rules:
            dims.update(rule.scope())
            if rule.split_by:
                dims.add(rule.split_by)
            if rule.metric in ("budget_used", "monthly_forecast", "slo_burn"):
                dims.update(SLO_DIMS)
            hists.update(histograms_for(rule.metric))
            if rule.metric == "slo_burn" and rule.slo and rule.slo.kind == "latency_p99":
                hists.add("latency")
        data = tenant_data_load(now=now, dims=dims & set(SCOPE_DIMENSIONS), histograms=hists)
        states: dict[tuple[int, str], RuleState] = {
            (s.rule_id, s.split_key): s for s in RuleState.objects.filter(rule_id__in=ids)
        }
        active: dict[tuple[int, str], Incident] = {
            (i.rule_id, i.split_key): i  # type: ignore[misc]
            for i in Incident.objects.filter(rule_id__in=ids).exclude(
                status=IncidentStatus.RESOLVED
            )
        }
        ctx: dict[str, Any] = {}
        dirty: list[RuleState] = []
        for rule in rules:
            outcomes = rule_outcomes(rule, data, ctx)
            keys = set(outcomes) | {k for (r, k) in states if r == rule.pk}
            keys |= {k for (r, k) in active if r == rule.pk}
            for key in sorted(keys):
                outcome = outcomes.get(key) or Outcome(value=None, samples=0, level="nodata")
                state = states.get((rule.pk, key))
                incident = active.get((rule.pk, key))
                if state is None and outcome.level in ("ok", "nodata") and incident is None:
                    continue  # nothing to remember about a quiet split
                if state is None:
                    state = RuleState(rule=rule, split_key=key)
                    states[(rule.pk, key)] = state
                _step(rule, key, outcome, state, incident, now, result, gap)
                dirty.append(state)
            result.rules += 1
        new = [s for s in dirty if s.pk is None]
        RuleState.objects.bulk_create(new)
        RuleState.objects.bulk_update(
            [s for s in dirty if s not in new],
            ["level", "consecutive", "clear_consecutive", "last_value", "last_evaluated_at"],
        )
    result.seconds = time.monotonic() - started
    return result


def _step(
    rule: AlertRule,
    key: str,
    outcome: Outcome,
    state: RuleState,
    incident: Incident | None,
    now: datetime,
    result: CycleResult,
    gap: timedelta,
) -> None:
    level, clear = outcome.level, outcome.clear
    if level == "nodata":
        if rule.no_data == "keep":
            state.last_evaluated_at = now
            return
        if rule.no_data == "alert":
            level, clear = "warning", False
        else:
            level, clear = "ok", True
    if state.last_evaluated_at is not None and now - state.last_evaluated_at > gap:
        state.consecutive = state.clear_consecutive = 0
    state.last_evaluated_at = now
    state.last_value = outcome.value
    state.level = level
    if level != "ok":
        state.consecutive += 1
        state.clear_consecutive = 0
    else:
        state.consecutive = 0
        state.clear_consecutive = state.clear_consecutive + 1 if clear else 0
    needed = max(1, rule.for_evaluations)
    if incident is None:
        if level != "ok" and state.consecutive >= needed:
            incident_open(
                rule=rule,
                split_key=key,
                severity=level,
                value=outcome.value,
                threshold=outcome.threshold,
                now=now,
            )
            result.opened += 1
        return
    _track(incident, outcome.value, lower_is_worse=rule.comparison in ("lt", "lte"))
    if level == "critical" and incident.severity == "warning":
        incident_escalate(
            incident=incident,
            severity="critical",
            value=outcome.value,
            threshold=outcome.threshold,
            now=now,
        )
    elif level == "warning" and incident.severity == "critical" and state.consecutive >= needed:
        incident_escalate(
            incident=incident,
            severity="warning",
            value=outcome.value,
            threshold=outcome.threshold,
            now=now,
        )
    if state.clear_consecutive >= needed:
        incident_resolve_auto(incident=incident, value=outcome.value, now=now)
        result.resolved += 1
        return
    repeat = timedelta(minutes=rule.repeat_minutes)
    if (
        rule.repeat_minutes
        and incident.status == IncidentStatus.OPEN
        and level != "ok"
        and incident.last_notified_at is not None
        and incident.last_notified_at + repeat <= now
    ):
        result.notified += len(notifications_queue(incident=incident, kind="repeat", now=now))


def _track(incident: Incident, value: float | None, *, lower_is_worse: bool) -> None:
    if value is None:
        return
    peak = incident.peak_value
    if peak is None or (value < peak if lower_is_worse else value > peak):
        peak = value
    Incident.objects.filter(pk=incident.pk).update(value=value, peak_value=peak)
    incident.value, incident.peak_value = value, peak
