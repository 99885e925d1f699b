"""The alert quality report: per rule over the last 30 days, is it an alert someone acts on?

- fired: incidents opened; acknowledged share and median time to acknowledge;
- flapping: incidents that re-opened within an hour of the previous one resolving;
- self-resolved: resolved automatically within 10 minutes with nobody acknowledging.
Suggestions follow the field guide's advice against alert fatigue: a rule that
mostly resolves itself needs a `for` duration or a higher threshold; one that
flaps needs more hysteresis or minimum samples; one nobody acknowledges is
noise or should go to a different channel.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from alerts.incidents.models import Incident
from alerts.rules.models import AlertRule

PERIOD = timedelta(days=30)
FLAP_GAP = timedelta(hours=1)
QUICK = timedelta(minutes=10)


@dataclass
class RuleQuality:
    rule: AlertRule
    fired: int = 0
    acknowledged: int = 0
    median_ack_minutes: float | None = None
    flapping: int = 0
    self_resolved: int = 0
    suggestions: list[str] = field(default_factory=list)

    @property
    def ack_share(self) -> float | None:
        return self.acknowledged / self.fired if self.fired else None

    @property
    def self_resolved_share(self) -> float | None:
        return self.self_resolved / self.fired if self.fired else None


def alert_quality_report(*, now: datetime | None = None) -> list[RuleQuality]:
    now = now or datetime.now(tz=UTC)
    rules = {r.pk: RuleQuality(rule=r) for r in AlertRule.objects.order_by("name", "pk")}
    incidents = (
        Incident.objects.filter(opened_at__gte=now - PERIOD, rule_id__in=list(rules))
        .order_by("rule_id", "split_key", "opened_at")
        .values("rule_id", "split_key", "opened_at", "acknowledged_at", "resolved_at", "resolution")
    )
    ack_minutes: dict[int, list[float]] = {}
    last_resolved: dict[tuple[int, str], datetime | None] = {}
    for row in incidents:
        report = rules[row["rule_id"]]
        report.fired += 1
        if row["acknowledged_at"] is not None:
            report.acknowledged += 1
            minutes = (row["acknowledged_at"] - row["opened_at"]).total_seconds() / 60
            ack_minutes.setdefault(row["rule_id"], []).append(minutes)
        key = (row["rule_id"], row["split_key"])
        previous = last_resolved.get(key)
        if previous is not None and row["opened_at"] - previous < FLAP_GAP:
            report.flapping += 1
        last_resolved[key] = row["resolved_at"]
        if (
            row["resolution"] == "auto"
            and row["acknowledged_at"] is None
            and row["resolved_at"] is not None
            and row["resolved_at"] - row["opened_at"] <= QUICK
        ):
            report.self_resolved += 1
    for rule_id, report in rules.items():
        if rule_id in ack_minutes:
            report.median_ack_minutes = statistics.median(ack_minutes[rule_id])
        report.suggestions = _suggest(report)
    return sorted(rules.values(), key=lambda r: (-r.fired, r.rule.name))


def _suggest(report: RuleQuality) -> list[str]:
    rule = report.rule
    out: list[str] = []
    if report.fired < 3:
        return out
    if (report.self_resolved_share or 0) >= 0.5:
        out.append(
            f"Most incidents cleared by themselves within {int(QUICK.total_seconds() // 60)} "
            f"minutes: add a `for` duration (now {rule.for_evaluations} evaluation"
            f"{'s' if rule.for_evaluations != 1 else ''}) or raise the threshold."
        )
    if report.flapping >= 2:
        out.append(
            f"It flapped {report.flapping} times: widen the hysteresis (now "
            f"{rule.hysteresis_pct:g}%) or lengthen the window ({rule.window_minutes} min)."
        )
    if rule.min_samples < 20 and report.fired >= 10:
        out.append("Require a minimum sample size so quiet periods do not fire on a few calls.")
    if (report.ack_share or 0) < 0.2 and report.fired >= 5:
        out.append(
            "Almost nobody acknowledges it: is it actionable? Raise the threshold, "
            "route it to a lower-urgency channel, or delete it."
        )
    if report.fired >= 30:
        out.append("It fires daily or more: consider a higher warning level.")
    return out
