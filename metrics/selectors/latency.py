"""Latency layer: p50/p95/p99 and time to first token, per dimension and over time."""

from __future__ import annotations

from dataclasses import dataclass

from core.exceptions import ApplicationError
from metrics import histogram
from metrics.selectors._query import Series, change, histograms, quantiles, ratio, sums, sums_by
from metrics.selectors.filters import MetricsFilter

QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


@dataclass(frozen=True)
class LatencyStats:
    key: str  # dimension value ("" for the whole filter)
    requests: int
    measured: int  # events with a latency
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    ttft_p99_ms: float | None
    tail_count: int
    tail_rate: float | None


@dataclass(frozen=True)
class LatencySummary:
    current: LatencyStats
    previous_p99_ms: float | None
    p99_change: float | None


def _stats(
    key: str, totals: dict, lat: histogram.Histogram, ttft: histogram.Histogram
) -> LatencyStats:
    p50, p95, p99 = quantiles(lat)
    t50, t95, t99 = quantiles(ttft)
    return LatencyStats(
        key=key,
        requests=totals["requests"],
        measured=totals["latency_count"],
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        mean_ms=ratio(totals["latency_sum_ms"], totals["latency_count"]),
        ttft_p50_ms=t50,
        ttft_p95_ms=t95,
        ttft_p99_ms=t99,
        tail_count=totals["tail_count"],
        tail_rate=ratio(totals["tail_count"], totals["requests"]),
    )


_FIELDS = ("requests", "latency_count", "latency_sum_ms", "tail_count")


def latency_summary(f: MetricsFilter) -> LatencySummary:
    current = _stats(
        "",
        sums(f, _FIELDS),
        histograms(f).get((), {}),
        histograms(f, metric="ttft").get((), {}),
    )
    previous = histograms(f.previous()).get((), {})
    previous_p99 = histogram.percentile(previous, 0.99)
    return LatencySummary(
        current=current,
        previous_p99_ms=previous_p99,
        p99_change=change(current.p99_ms, previous_p99),
    )


def latency_breakdown(f: MetricsFilter, *, by: str = "endpoint") -> list[LatencyStats]:
    """Percentiles per endpoint, feature, model... slowest p99 first."""
    lat = histograms(f, by=by)
    ttft = histograms(f, metric="ttft", by=by)
    rows = [
        _stats(r["key"], r, lat.get((r["key"],), {}), ttft.get((r["key"],), {}))
        for r in sums_by(f, by, _FIELDS)
    ]
    rows.sort(key=lambda s: (-(s.p99_ms or -1.0), s.key))
    return rows


def latency_series(
    f: MetricsFilter, *, by: str | None = None, quantile: str = "p99", metric: str = "latency"
) -> Series:
    """Without `by`: lines p50, p95, p99. With `by`: one line per value at `quantile`."""
    buckets = f.bucket_starts()
    series = Series(buckets=buckets, bucket=f.bucket)
    hists = histograms(f, metric=metric, by=by, by_time=True)
    if by is None:
        per_bucket = {
            key[0]: histogram.percentiles(h, QUANTILES.values()) for key, h in hists.items()
        }
        for n, name in enumerate(QUANTILES):
            series.lines[name] = [per_bucket[b][n] if b in per_bucket else None for b in buckets]
        return series
    if quantile not in QUANTILES:
        raise ApplicationError("Invalid filter.", details={"quantile": "Use p50, p95 or p99."})
    q = QUANTILES[quantile]
    per_key: dict[str, dict] = {}
    for (t, key), h in hists.items():
        per_key.setdefault(key, {})[t] = histogram.percentile(h, q)
    for key in sorted(per_key):
        series.lines[key] = [per_key[key].get(b) for b in buckets]
    return series
