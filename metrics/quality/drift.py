"""The daily drift job: test every (feature, category) series and keep findings current.

Two checks run per series (method in drift_detector.py and docs/quality.md):
- the rolling check: the last `window_days` against the `baseline_days` before;
- the deployment watch: for `watch_days` after a release (matching its feature,
  or every feature when it names none), the days since the release against
  the days before it, with a tighter false-alarm budget spread over only the
  watch period, so a release's regression is flagged sooner.
Findings are opened, updated and resolved here (audited, through findings.py);
alerts reads them through selectors.quality_findings_active(). Series whose
statistic is climbing towards an alarm come back as `at_risk`, and the daily
task raises their sampling rate (adaptive sampling, sampling_rates.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from compliance.services import audit_record
from core.exceptions import ApplicationError
from metrics.quality.drift_detector import DriftParams, DriftResult, drift_evaluate, drift_resolved
from metrics.quality.findings import FindingKey, finding_raise, finding_resolve
from metrics.quality.models import Deployment, FindingKind
from metrics.quality.series import daily_stats, event_qualities

ROLLING = DriftParams()
WATCH_FALSE_ALARMS = 0.1  # per watch period, across the tenant's series


@dataclass
class DriftCheckResult:
    series: int = 0
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    # (feature, category) series whose statistic is climbing: sampled more from tomorrow
    at_risk: set[tuple[str, str]] = field(default_factory=set)


def _finding_values(result: DriftResult, method: str) -> dict[str, Any]:
    if result.baseline is None:
        raise ValueError("an alarm always has a baseline")
    return {
        "delta_points": round(result.delta_points, 3),
        "ci_low": round(result.ci_low, 3),
        "ci_high": round(result.ci_high, 3),
        "baseline": round(result.baseline.mean, 5),
        "current": round(result.current_mean or 0.0, 5),
        "started_on": result.started_on,
        "method": method,
        "details": {
            "statistic": round(result.statistic, 3),
            "threshold": round(result.threshold, 3),
            "baseline_n": result.baseline.n,
            "baseline_days": result.baseline.days,
            "days_in_excursion": result.days_in_excursion,
        },
    }


def _apply(
    *,
    tenant_slug: str,
    key: FindingKey,
    result: DriftResult,
    method: str,
    deployment: Deployment | None,
    now: datetime,
    out: DriftCheckResult,
) -> None:
    if result.at_risk:
        out.at_risk.add((key.feature, key.content_category))
    if result.alarm:
        _, opened = finding_raise(
            tenant_slug=tenant_slug,
            key=key,
            values=_finding_values(result, method),
            now=now,
            on_open={"deployment": deployment},
        )
        if opened:
            out.opened += 1
        else:
            out.updated += 1
    elif drift_resolved(result) and finding_resolve(
        tenant_slug=tenant_slug,
        key=key,
        now=now,
        evidence={"statistic": round(result.statistic, 3)},
    ):
        out.resolved += 1


def drift_check(*, tenant_slug: str, today: date | None = None) -> DriftCheckResult:
    """Run both checks for every series; safe to run twice a day (findings are upserted)."""
    now = timezone.now()
    today = today or now.date()
    deployments = list(
        Deployment.objects.filter(
            deployed_at__date__lte=today,
            deployed_at__date__gte=today - timedelta(days=90),
        ).order_by("deployed_at", "pk")
    )
    span = ROLLING.window_days + ROLLING.baseline_days + 1
    since = today - timedelta(days=span)
    for dep in deployments:
        since = min(since, dep.deployed_at.date() - timedelta(days=ROLLING.baseline_days + 1))
    stats = daily_stats(
        event_qualities(since=since, until=today), by=("feature", "content_category")
    )
    out = DriftCheckResult(series=len(stats))
    rolling = DriftParams(series=max(1, len(stats)))
    with transaction.atomic():
        for key in sorted(stats):
            series = stats[key]
            feature, category = key[0], key[1]
            result = drift_evaluate(series, today=today, params=rolling)
            _apply(
                tenant_slug=tenant_slug,
                key=FindingKey(FindingKind.DRIFT, feature, category),
                result=result,
                method="cusum-rolling",
                deployment=None,
                now=now,
                out=out,
            )
            for dep in deployments:
                day = dep.deployed_at.date()
                if (dep.feature and dep.feature != feature) or today > day + timedelta(
                    days=dep.watch_days
                ):
                    continue
                watch = DriftParams(
                    series=max(1, len(stats)),
                    horizon_days=dep.watch_days,
                    false_alarms_per_year=WATCH_FALSE_ALARMS,
                )
                result = drift_evaluate(
                    series, today=today, params=watch, baseline_end=day, monitor_start=day
                )
                _apply(
                    tenant_slug=tenant_slug,
                    key=FindingKey(FindingKind.DRIFT, feature, category, f"deployment:{dep.pk}"),
                    result=result,
                    method="cusum-deployment-watch",
                    deployment=dep,
                    now=now,
                    out=out,
                )
    return out


def deployment_record(
    *,
    tenant_slug: str,
    release: str,
    model: str = "",
    feature: str = "",
    description: str = "",
    deployed_at: datetime | None = None,
    watch_days: int = 30,
) -> Deployment:
    errors: dict[str, str] = {}
    release = release.strip()
    if not release or len(release) > 128:
        errors["release"] = "Required, at most 128 characters."
    if len(model) > 128:
        errors["model"] = "At most 128 characters."
    if len(feature) > 128:
        errors["feature"] = "At most 128 characters."
    if len(description) > 2000:
        errors["description"] = "At most 2000 characters."
    if not 1 <= watch_days <= 180:
        errors["watch_days"] = "Between 1 and 180."
    now = timezone.now()
    deployed_at = deployed_at or now
    if deployed_at.tzinfo is None:
        errors["deployed_at"] = "Give a timezone (e.g. Z)."
    elif deployed_at > now + timedelta(days=1):
        errors["deployed_at"] = "Cannot be in the future."
    if errors:
        raise ApplicationError("Invalid deployment.", details=errors)
    with transaction.atomic():
        dep = Deployment.objects.create(
            release=release,
            model=model,
            feature=feature,
            description=description,
            deployed_at=deployed_at,
            watch_days=watch_days,
        )
        audit_record(
            tenant_slug=tenant_slug,
            action="quality.deployment_recorded",
            object_type="deployment",
            object_id=dep.pk,
            after={
                "release": release,
                "model": model,
                "feature": feature,
                "deployed_at": deployed_at,
                "watch_days": watch_days,
            },
        )
    return dep
