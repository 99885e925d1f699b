"""Overview: the five layers' headline numbers against the previous period."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from metrics import histogram
from metrics.selectors._query import change, histograms, per_request, ratio, sums
from metrics.selectors.filters import MetricsFilter

LAYERS = ("cost", "latency", "quality", "reliability", "safety")


@dataclass(frozen=True)
class Headline:
    layer: str  # cost | latency | quality | reliability | safety
    name: str  # machine name, e.g. "p99_ms"
    label: str
    value: float | Decimal | int | None
    previous: float | Decimal | int | None
    change: float | None  # relative change; None when there is nothing to compare
    unit: str  # usd | ms | ratio | score | count
    better: str  # "lower" or "higher": which direction of change is good


@dataclass(frozen=True)
class Overview:
    requests: int
    previous_requests: int
    headlines: list[Headline]

    def layer(self, layer: str) -> list[Headline]:
        return [h for h in self.headlines if h.layer == layer]

    def get(self, name: str) -> Headline:
        return next(h for h in self.headlines if h.name == name)


def _numbers(f: MetricsFilter) -> dict[str, float | Decimal | int | None]:
    s = sums(f)
    p50, p99 = histogram.percentiles(histograms(f).get((), {}), (0.5, 0.99))
    failures = s["requests"] - s["ok_count"]
    return {
        "requests": s["requests"],
        "cost_usd": s["cost_usd"],
        "cost_per_request": per_request(s["cost_usd"], s["requests"]),
        "p50_ms": p50,
        "p99_ms": p99,
        "tail_rate": ratio(s["tail_count"], s["requests"]),
        "quality": ratio(s["quality_sum"], s["quality_count"]),
        "quality_scored": s["quality_count"],
        "error_rate": ratio(failures, s["requests"]),
        "fallback_rate": ratio(s["fallback_count"], s["requests"]),
        "refusal_rate": ratio(s["refusal_count"], s["requests"]),
        "violations": s["violation_count"],
    }


_HEADLINES = (
    ("cost", "cost_usd", "Spend", "usd", "lower"),
    ("cost", "cost_per_request", "Cost per request", "usd", "lower"),
    ("latency", "p50_ms", "Latency p50", "ms", "lower"),
    ("latency", "p99_ms", "Latency p99", "ms", "lower"),
    ("latency", "tail_rate", "Tail events", "ratio", "lower"),
    ("quality", "quality", "Quality score", "score", "higher"),
    ("quality", "quality_scored", "Scored events", "count", "higher"),
    ("reliability", "error_rate", "Error rate", "ratio", "lower"),
    ("reliability", "fallback_rate", "Fallback rate", "ratio", "lower"),
    ("safety", "refusal_rate", "Refusal rate", "ratio", "lower"),
    ("safety", "violations", "Policy violations", "count", "lower"),
)


def overview(f: MetricsFilter) -> Overview:
    """Headlines of the five layers for `f` and the period before it (4 queries)."""
    now = _numbers(f)
    before = _numbers(f.previous())
    headlines = [
        Headline(
            layer=layer,
            name=name,
            label=label,
            value=now[name],
            previous=before[name],
            change=change(now[name], before[name]),
            unit=unit,
            better=better,
        )
        for layer, name, label, unit, better in _HEADLINES
    ]
    return Overview(
        requests=int(now["requests"] or 0),
        previous_requests=int(before["requests"] or 0),
        headlines=headlines,
    )
