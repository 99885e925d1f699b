"""Aggregates of events over a window (from raw minutes or hourly rollups) and metric values.

An `Agg` holds the sums a rule's metric needs; aggregates of different
minutes, hours or dimension combinations merge by adding (histograms too,
see metrics.histogram), so a window is the sum of its parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from metrics import histogram

PERCENTILE_METRICS = {
    "latency_p50": ("latency", 0.5),
    "latency_p95": ("latency", 0.95),
    "latency_p99": ("latency", 0.99),
    "ttft_p50": ("ttft", 0.5),
    "ttft_p95": ("ttft", 0.95),
}


@dataclass
class Agg:
    requests: int = 0
    cost: Decimal = Decimal("0")
    tokens: int = 0
    ok: int = 0
    error: int = 0
    timeout: int = 0
    rate_limited: int = 0
    cancelled: int = 0
    fallback: int = 0
    refusal: int = 0
    violations: int = 0
    tail: int = 0
    quality_sum: float = 0.0
    quality_count: int = 0
    latency: dict[int, int] = field(default_factory=dict)
    ttft: dict[int, int] = field(default_factory=dict)

    def add(self, other: Agg) -> None:
        self.requests += other.requests
        self.cost += other.cost
        self.tokens += other.tokens
        self.ok += other.ok
        self.error += other.error
        self.timeout += other.timeout
        self.rate_limited += other.rate_limited
        self.cancelled += other.cancelled
        self.fallback += other.fallback
        self.refusal += other.refusal
        self.violations += other.violations
        self.tail += other.tail
        self.quality_sum += other.quality_sum
        self.quality_count += other.quality_count
        for index, count in other.latency.items():
            self.latency[index] = self.latency.get(index, 0) + count
        for index, count in other.ttft.items():
            self.ttft[index] = self.ttft.get(index, 0) + count

    def add_histograms(self, other: Agg) -> None:
        for index, count in other.latency.items():
            self.latency[index] = self.latency.get(index, 0) + count
        for index, count in other.ttft.items():
            self.ttft[index] = self.ttft.get(index, 0) + count

    @property
    def failed(self) -> int:
        """Calls that failed on the provider side (cancelled calls are the caller's choice)."""
        return self.error + self.timeout + self.rate_limited


# Fields in the order the SQL of metrics.alerts.data returns them, after the key columns.
SUM_COLUMNS = (
    "requests",
    "cost",
    "tokens",
    "ok",
    "error",
    "timeout",
    "rate_limited",
    "cancelled",
    "fallback",
    "refusal",
    "violations",
    "tail",
    "quality_sum",
    "quality_count",
)


def scalars(agg: Agg) -> tuple[Any, ...]:
    """The summable columns, in SUM_COLUMNS order (for prefix sums)."""
    return tuple(getattr(agg, name) for name in SUM_COLUMNS)


def agg_from_row(values: tuple[object, ...]) -> Agg:
    agg = Agg()
    for name, value in zip(SUM_COLUMNS, values, strict=True):
        if value is None:
            continue
        if name == "cost":
            agg.cost = value if isinstance(value, Decimal) else Decimal(str(value))
        elif name == "quality_sum":
            agg.quality_sum = float(value)  # type: ignore[arg-type]
        else:
            setattr(agg, name, int(value))  # type: ignore[call-overload]
    return agg


def samples(metric: str, agg: Agg) -> int:
    """How many observations the metric's value rests on (for `min_samples`)."""
    if metric == "quality_score":
        return agg.quality_count
    if metric in PERCENTILE_METRICS:
        hist = agg.latency if PERCENTILE_METRICS[metric][0] == "latency" else agg.ttft
        return histogram.total(hist)
    return agg.requests


def _pct(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def metric_value(metric: str, agg: Agg) -> float | None:
    """The value of a plain metric over an aggregate; None when there is nothing to measure."""
    if metric == "spend":
        return float(agg.cost)
    if metric == "requests":
        return float(agg.requests)
    if metric == "tokens":
        return float(agg.tokens)
    if metric == "tail_count":
        return float(agg.tail)
    if metric == "violation_count":
        return float(agg.violations)
    if metric == "cost_per_request":
        return float(agg.cost) / agg.requests if agg.requests else None
    if metric in PERCENTILE_METRICS:
        kind, q = PERCENTILE_METRICS[metric]
        return histogram.percentile(agg.latency if kind == "latency" else agg.ttft, q)
    if metric == "error_rate":
        return _pct(agg.failed, agg.requests)
    if metric == "timeout_rate":
        return _pct(agg.timeout, agg.requests)
    if metric == "fallback_rate":
        return _pct(agg.fallback, agg.requests)
    if metric == "refusal_rate":
        return _pct(agg.refusal, agg.requests)
    if metric == "availability":
        return None if not agg.requests else 100.0 - 100.0 * agg.failed / agg.requests
    if metric == "quality_score":
        return agg.quality_sum / agg.quality_count if agg.quality_count else None
    raise ValueError(f"not a plain metric: {metric}")
