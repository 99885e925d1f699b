"""Safety layer: refusal rate and policy violations by policy and severity."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from metrics.rollups.models import ViolationRollup
from metrics.selectors._query import Series, change, ratio, sums, sums_by_time
from metrics.selectors.filters import MetricsFilter

_FIELDS = ("requests", "refusal_count", "violation_count", "violating_requests")
# ViolationRollup keeps fewer dimensions than HourlyRollup.
VIOLATION_DIMENSIONS = ("feature", "model", "customer", "environment")


@dataclass(frozen=True)
class SafetySummary:
    requests: int
    refusals: int
    refusal_rate: float | None
    violations: int
    violating_requests: int
    violation_rate: float | None  # violating requests / requests
    previous_violations: int
    violations_change: float | None
    previous_refusal_rate: float | None


@dataclass(frozen=True)
class ViolationRow:
    policy: str
    severity: str
    count: int
    share: float | None


def safety_summary(f: MetricsFilter) -> SafetySummary:
    now = sums(f, _FIELDS)
    before = sums(f.previous(), _FIELDS)
    return SafetySummary(
        requests=now["requests"],
        refusals=now["refusal_count"],
        refusal_rate=ratio(now["refusal_count"], now["requests"]),
        violations=now["violation_count"],
        violating_requests=now["violating_requests"],
        violation_rate=ratio(now["violating_requests"], now["requests"]),
        previous_violations=before["violation_count"],
        violations_change=change(now["violation_count"], before["violation_count"]),
        previous_refusal_rate=ratio(before["refusal_count"], before["requests"]),
    )


def violations_breakdown(f: MetricsFilter) -> list[ViolationRow]:
    """Violations by policy and severity, most frequent first.

    Filters on endpoint, provider, query type or content category are not kept
    for violations; they are ignored here (the totals in safety_summary honour them).
    """
    dims = {k: v for k, v in f.dimensions().items() if k in VIOLATION_DIMENSIONS}
    rows = (
        ViolationRollup.objects.filter(hour__gte=f.start, hour__lt=f.end, **dims)
        .values("policy", "severity")
        .annotate(n=Sum("count"))
        .order_by("-n", "policy", "severity")
    )
    total = sum(r["n"] for r in rows)
    return [
        ViolationRow(
            policy=r["policy"], severity=r["severity"], count=r["n"], share=ratio(r["n"], total)
        )
        for r in rows
    ]


def safety_series(f: MetricsFilter) -> Series:
    """Refusal rate and violation count per bucket."""
    buckets = f.bucket_starts()
    data = sums_by_time(f, _FIELDS)
    refusal = {t: ratio(v["refusal_count"], v["requests"]) for (t, _), v in data.items()}
    violations = {t: float(v["violation_count"]) for (t, _), v in data.items()}
    return Series(
        buckets=buckets,
        bucket=f.bucket,
        lines={
            "refusal_rate": [refusal.get(b) for b in buckets],
            "violations": [violations.get(b, 0.0) for b in buckets],
        },
    )
