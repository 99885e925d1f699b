"""Shared reads over the hourly rollups: filtered querysets, sums, merged histograms."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import F, QuerySet, Sum
from django.db.models.functions import TruncDay

from metrics import histogram
from metrics.rollups.models import ROLLUP_DIMENSIONS, HourlyRollup
from metrics.selectors.filters import MetricsFilter

BREAKDOWN_DIMENSIONS = ROLLUP_DIMENSIONS
SUM_FIELDS = (
    "requests",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cost_usd",
    "ok_count",
    "error_count",
    "timeout_count",
    "rate_limited_count",
    "cancelled_count",
    "fallback_count",
    "retry_count",
    "refusal_count",
    "violation_count",
    "violating_requests",
    "tail_count",
    "quality_sum",
    "quality_count",
    "latency_sum_ms",
    "latency_count",
)
ZERO_COST = Decimal("0")


@dataclass
class Series:
    """A time series for a chart: bucket starts and one list of values per named line."""

    buckets: list[datetime]
    bucket: str  # "hour" | "day"
    lines: dict[str, list[float | None]] = field(default_factory=dict)


def check_dimension(by: str) -> str:
    if by not in BREAKDOWN_DIMENSIONS:
        raise ValueError(f"Unknown dimension {by!r}; use one of {', '.join(BREAKDOWN_DIMENSIONS)}")
    return by


def rollups(f: MetricsFilter) -> QuerySet[HourlyRollup]:
    return HourlyRollup.objects.filter(hour__gte=f.start, hour__lt=f.end, **f.dimensions())


def sums(f: MetricsFilter, fields: Sequence[str] = SUM_FIELDS) -> dict[str, Any]:
    row = rollups(f).aggregate(**{name: Sum(name) for name in fields})
    return {name: _zero(name, row[name]) for name in fields}


def sums_by(f: MetricsFilter, by: str, fields: Sequence[str] = SUM_FIELDS) -> list[dict[str, Any]]:
    check_dimension(by)
    rows = rollups(f).values(by).annotate(**{f"s_{n}": Sum(n) for n in fields}).order_by(by)
    return [{"key": row[by], **{n: _zero(n, row[f"s_{n}"]) for n in fields}} for row in rows]


def sums_by_time(
    f: MetricsFilter, fields: Sequence[str] = SUM_FIELDS, by: str | None = None
) -> dict[tuple[datetime, str], dict[str, Any]]:
    """Sums per (bucket start, dimension value or "")."""
    qs = rollups(f)
    qs = (
        qs.annotate(t=TruncDay("hour", tzinfo=UTC))
        if f.bucket == "day"
        else qs.annotate(t=F("hour"))
    )
    group = ["t", check_dimension(by)] if by else ["t"]
    rows = qs.values(*group).annotate(**{f"s_{n}": Sum(n) for n in fields}).order_by(*group)
    return {
        (row["t"], row[by] if by else ""): {n: _zero(n, row[f"s_{n}"]) for n in fields}
        for row in rows
    }


def _zero(name: str, value: Any) -> Any:
    if value is not None:
        return value
    return ZERO_COST if name == "cost_usd" else 0


def where_sql(f: MetricsFilter) -> tuple[str, list[Any]]:
    clauses = ["r.hour >= %s", "r.hour < %s"]
    params: list[Any] = [f.start, f.end]
    for name, value in f.dimensions().items():
        clauses.append(f"r.{name} = %s")
        params.append(value)
    return " AND ".join(clauses), params


def histograms(
    f: MetricsFilter, *, metric: str = "latency", by: str | None = None, by_time: bool = False
) -> dict[tuple[Any, ...], histogram.Histogram]:
    """Merged histograms of `metric` ("latency" | "ttft"), keyed by (bucket?, dimension?)."""
    if metric not in ("latency", "ttft"):
        raise ValueError("metric is latency or ttft")
    group: list[str] = []
    if by_time:
        group.append("date_trunc('day', r.hour)" if f.bucket == "day" else "r.hour")
    if by:
        group.append(f"r.{check_dimension(by)}")
    where, params = where_sql(f)
    select = ", ".join([*group, "u.b", "sum(u.c)"])
    group_sql = ", ".join([*group, "u.b"])
    sql = (
        f"SELECT {select} FROM metrics_hourlyrollup r, "  # noqa: S608 (constants only)
        f"unnest(r.{metric}_buckets, r.{metric}_counts) AS u(b, c) "
        f"WHERE {where} GROUP BY {group_sql}"
    )
    out: dict[tuple[Any, ...], histogram.Histogram] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            key = tuple(row[: len(group)])
            out.setdefault(key, {})[int(row[-2])] = int(row[-1])
    return out


def quantiles(hist: histogram.Histogram) -> tuple[float | None, float | None, float | None]:
    p50, p95, p99 = histogram.percentiles(hist, (0.5, 0.95, 0.99))
    return p50, p95, p99


def ratio(part: float | int | Decimal, whole: float | int | Decimal) -> float | None:
    return float(part) / float(whole) if whole else None


def per_request(cost: Decimal, requests: int) -> Decimal | None:
    return (cost / requests).quantize(Decimal("0.0000000001")) if requests else None


def change(current: float | Decimal | None, previous: float | Decimal | None) -> float | None:
    """Relative change from the previous period (None when there is nothing to compare)."""
    if current is None or previous is None or not previous:
        return None
    return (float(current) - float(previous)) / float(previous)


def fill(buckets: Iterable[datetime], values: dict[datetime, float | None]) -> list[float | None]:
    return [values.get(b) for b in buckets]
