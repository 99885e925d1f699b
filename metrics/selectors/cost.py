"""Cost layer: totals, per-dimension breakdowns, concentration and spend over time."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from metrics.selectors._query import (
    ZERO_COST,
    Series,
    change,
    per_request,
    ratio,
    sums,
    sums_by,
    sums_by_time,
)
from metrics.selectors.filters import MetricsFilter

COST_FIELDS = ("requests", "input_tokens", "output_tokens", "cached_input_tokens", "cost_usd")


@dataclass(frozen=True)
class CostSummary:
    requests: int
    cost_usd: Decimal
    cost_per_request: Decimal | None
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    previous_cost_usd: Decimal
    cost_change: float | None  # relative to the previous period

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class CostRow:
    key: str
    requests: int
    request_share: float | None
    cost_usd: Decimal
    cost_share: float | None
    cost_per_request: Decimal | None
    # cost per request relative to the average request: 5.0 = five times dearer
    relative_cost_per_request: float | None
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Concentration:
    by: str
    top: list[CostRow]
    top_cost_share: float | None
    top_request_share: float | None
    total_cost_usd: Decimal
    total_requests: int


def cost_summary(f: MetricsFilter) -> CostSummary:
    now = sums(f, COST_FIELDS)
    before = sums(f.previous(), ("cost_usd",))
    return CostSummary(
        requests=now["requests"],
        cost_usd=now["cost_usd"],
        cost_per_request=per_request(now["cost_usd"], now["requests"]),
        input_tokens=now["input_tokens"],
        output_tokens=now["output_tokens"],
        cached_input_tokens=now["cached_input_tokens"],
        previous_cost_usd=before["cost_usd"],
        cost_change=change(now["cost_usd"], before["cost_usd"]),
    )


def cost_breakdown(f: MetricsFilter, *, by: str = "feature") -> list[CostRow]:
    """One row per value of `by` (feature, model, customer, query_type, ...), dearest first."""
    rows = sums_by(f, by, COST_FIELDS)
    total_cost = sum((r["cost_usd"] for r in rows), ZERO_COST)
    total_requests = sum(r["requests"] for r in rows)
    average = float(total_cost) / total_requests if total_requests else None
    out = []
    for r in rows:
        cpr = per_request(r["cost_usd"], r["requests"])
        out.append(
            CostRow(
                key=r["key"],
                requests=r["requests"],
                request_share=ratio(r["requests"], total_requests),
                cost_usd=r["cost_usd"],
                cost_share=ratio(r["cost_usd"], total_cost),
                cost_per_request=cpr,
                relative_cost_per_request=(
                    float(cpr) / average if cpr is not None and average else None
                ),
                input_tokens=r["input_tokens"],
                output_tokens=r["output_tokens"],
            )
        )
    out.sort(key=lambda row: (-row.cost_usd, row.key))
    return out


def cost_concentration(f: MetricsFilter, *, by: str = "feature", top: int = 3) -> Concentration:
    """Which `top` values of `by` take what share of the cost (and of the requests)."""
    rows = cost_breakdown(f, by=by)
    head = rows[:top]
    total_cost = sum((r.cost_usd for r in rows), ZERO_COST)
    total_requests = sum(r.requests for r in rows)
    return Concentration(
        by=by,
        top=head,
        top_cost_share=ratio(sum((r.cost_usd for r in head), ZERO_COST), total_cost),
        top_request_share=ratio(sum(r.requests for r in head), total_requests),
        total_cost_usd=total_cost,
        total_requests=total_requests,
    )


def cost_series(f: MetricsFilter, *, by: str | None = None, top: int = 5) -> Series:
    """Spend per hour (ranges up to 7 days) or per day; with `by`, one line per top value.

    Values beyond the `top` dearest are summed into an "other" line.
    """
    buckets = f.bucket_starts()
    series = Series(buckets=buckets, bucket=f.bucket)
    data = sums_by_time(f, ("cost_usd",), by=by)
    if by is None:
        values = {t: float(v["cost_usd"]) for (t, _), v in data.items()}
        series.lines["cost_usd"] = [values.get(b, 0.0) for b in buckets]
        return series
    totals: dict[str, Decimal] = {}
    for (_, key), v in data.items():
        totals[key] = totals.get(key, ZERO_COST) + v["cost_usd"]
    keep = [k for k, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    lines: dict[str, dict] = {k: {} for k in keep}
    other: dict = {}
    for (t, key), v in data.items():
        target = lines.get(key, other)
        target[t] = target.get(t, 0.0) + float(v["cost_usd"])
    for key in keep:
        series.lines[key] = [lines[key].get(b, 0.0) for b in buckets]
    if other:
        series.lines["other"] = [other.get(b, 0.0) for b in buckets]
    return series


def cost_per_day(f: MetricsFilter) -> list[tuple[str, Decimal, int]]:
    """(UTC day, cost, requests) for every day of the range, oldest first."""
    daily = replace(f, resolution="day")
    data = sums_by_time(daily, ("cost_usd", "requests"))
    out = []
    for b in daily.bucket_starts():
        v = data.get((b, ""), {"cost_usd": ZERO_COST, "requests": 0})
        out.append((b.date().isoformat(), v["cost_usd"], v["requests"]))
    return out
