"""Reliability layer: error rates by status, fallbacks, retries, provider availability."""

from __future__ import annotations

from dataclasses import dataclass

from metrics.selectors._query import Series, change, ratio, sums, sums_by, sums_by_time
from metrics.selectors.filters import MetricsFilter

STATUS_FIELDS = {
    "error": "error_count",
    "timeout": "timeout_count",
    "rate_limited": "rate_limited_count",
    "cancelled": "cancelled_count",
}
_FIELDS = ("requests", "ok_count", *STATUS_FIELDS.values(), "fallback_count", "retry_count")


@dataclass(frozen=True)
class ReliabilityStats:
    key: str
    requests: int
    ok: int
    failures: int  # every status but ok
    error_rate: float | None  # failures / requests
    availability: float | None  # ok / requests
    by_status: dict[str, int]
    status_rates: dict[str, float | None]
    fallbacks: int
    fallback_rate: float | None
    retries: int
    retries_per_request: float | None


@dataclass(frozen=True)
class ReliabilitySummary:
    current: ReliabilityStats
    previous_error_rate: float | None
    error_rate_change: float | None


def _stats(key: str, r: dict) -> ReliabilityStats:
    by_status = {name: int(r[col]) for name, col in STATUS_FIELDS.items()}
    failures = sum(by_status.values())
    return ReliabilityStats(
        key=key,
        requests=r["requests"],
        ok=r["ok_count"],
        failures=failures,
        error_rate=ratio(failures, r["requests"]),
        availability=ratio(r["ok_count"], r["requests"]),
        by_status=by_status,
        status_rates={name: ratio(n, r["requests"]) for name, n in by_status.items()},
        fallbacks=r["fallback_count"],
        fallback_rate=ratio(r["fallback_count"], r["requests"]),
        retries=r["retry_count"],
        retries_per_request=ratio(r["retry_count"], r["requests"]),
    )


def reliability_summary(f: MetricsFilter) -> ReliabilitySummary:
    current = _stats("", sums(f, _FIELDS))
    previous = _stats("", sums(f.previous(), _FIELDS))
    return ReliabilitySummary(
        current=current,
        previous_error_rate=previous.error_rate,
        error_rate_change=change(current.error_rate, previous.error_rate),
    )


def reliability_breakdown(f: MetricsFilter, *, by: str = "provider") -> list[ReliabilityStats]:
    """Per provider, model, feature...: worst error rate first."""
    rows = [_stats(r["key"], r) for r in sums_by(f, by, _FIELDS)]
    rows.sort(key=lambda s: (-(s.error_rate or 0.0), s.key))
    return rows


def error_series(f: MetricsFilter) -> Series:
    """Failed calls per bucket, one line per status (error, timeout, rate_limited, cancelled)."""
    buckets = f.bucket_starts()
    data = sums_by_time(f, tuple(STATUS_FIELDS.values()))
    series = Series(buckets=buckets, bucket=f.bucket)
    for name, col in STATUS_FIELDS.items():
        values = {t: float(v[col]) for (t, _), v in data.items()}
        series.lines[name] = [values.get(b, 0.0) for b in buckets]
    return series


def provider_availability_series(f: MetricsFilter) -> Series:
    """Success rate (ok / requests) per provider and bucket; None where a bucket had no calls."""
    buckets = f.bucket_starts()
    data = sums_by_time(f, ("requests", "ok_count", "fallback_count"), by="provider")
    per_provider: dict[str, dict] = {}
    for (t, provider), v in data.items():
        per_provider.setdefault(provider, {})[t] = ratio(v["ok_count"], v["requests"])
    series = Series(buckets=buckets, bucket=f.bucket)
    for provider in sorted(per_provider):
        series.lines[provider or "(none)"] = [per_provider[provider].get(b) for b in buckets]
    return series


def fallback_series(f: MetricsFilter) -> Series:
    """Share of calls served by a fallback, per bucket."""
    buckets = f.bucket_starts()
    data = sums_by_time(f, ("requests", "fallback_count"))
    values = {t: ratio(v["fallback_count"], v["requests"]) for (t, _), v in data.items()}
    return Series(
        buckets=buckets, bucket=f.bucket, lines={"fallback_rate": [values.get(b) for b in buckets]}
    )
