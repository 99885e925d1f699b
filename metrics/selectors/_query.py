"""Shared reads over the hourly rollups: filtered querysets, sums, merged histograms."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import TruncDay

from core.exceptions import ApplicationError
from metrics import histogram
from metrics.rollups.models import (
    COARSE_PROJECTIONS,
    ROLLUP_DIMENSIONS,
    CoarseRollup,
    HourlyRollup,
)
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
    """`by` must be a rollup dimension (ApplicationError naming `by` otherwise: a 400)."""
    if by not in BREAKDOWN_DIMENSIONS:
        raise ApplicationError(
            "Invalid filter.", details={"by": f"Use one of {', '.join(BREAKDOWN_DIMENSIONS)}."}
        )
    return by


def coarse_projection(f: MetricsFilter, by: str | None = None) -> str | None:
    """The smallest CoarseRollup projection keeping every dimension the filter and `by` use."""
    wanted = set(f.dimensions()) | ({by} if by else set())
    covering = [name for name, dims in COARSE_PROJECTIONS.items() if wanted <= set(dims)]
    return min(covering, key=lambda name: len(COARSE_PROJECTIONS[name]), default=None)


def _day_edges(f: MetricsFilter) -> tuple[datetime, datetime]:
    """First and last midnight inside the range (whole days between them use day rows)."""
    first = f.start.replace(hour=0)
    if first < f.start:
        first += timedelta(days=1)
    return first, f.end.replace(hour=0)


def _coarse_periods(f: MetricsFilter, *, hours_only: bool) -> Q:
    first, last = _day_edges(f)
    if hours_only or first >= last:
        return Q(period="hour", start__gte=f.start, start__lt=f.end)
    return (
        Q(period="day", start__gte=first, start__lt=last)
        | Q(period="hour", start__gte=f.start, start__lt=first)
        | Q(period="hour", start__gte=last, start__lt=f.end)
    )


def rollups(
    f: MetricsFilter, *, by: str | None = None, by_time: bool = False
) -> tuple[QuerySet[Any], str]:
    """The cheapest exact rollup rows for `f` (and grouping `by`), with their time column.

    CoarseRollup when only coarse dimensions are involved (whole days from day
    rows, the ragged ends from hour rows; hour rows only for hourly series),
    HourlyRollup otherwise.
    """
    projection = coarse_projection(f, by)
    if projection is not None:
        hours_only = by_time and f.bucket == "hour"
        coarse = CoarseRollup.objects.filter(
            _coarse_periods(f, hours_only=hours_only), projection=projection
        )
        return coarse.filter(**f.dimensions()), "start"
    hourly = HourlyRollup.objects.filter(hour__gte=f.start, hour__lt=f.end, **f.dimensions())
    return hourly, "hour"


def sums(f: MetricsFilter, fields: Sequence[str] = SUM_FIELDS) -> dict[str, Any]:
    qs, _ = rollups(f)
    row = qs.aggregate(**{name: Sum(name) for name in fields})
    return {name: _zero(name, row[name]) for name in fields}


def sums_by(f: MetricsFilter, by: str, fields: Sequence[str] = SUM_FIELDS) -> list[dict[str, Any]]:
    check_dimension(by)
    qs, _ = rollups(f, by=by)
    rows = qs.values(by).annotate(**{f"s_{n}": Sum(n) for n in fields}).order_by(by)
    return [{"key": row[by], **{n: _zero(n, row[f"s_{n}"]) for n in fields}} for row in rows]


def sums_by_time(
    f: MetricsFilter, fields: Sequence[str] = SUM_FIELDS, by: str | None = None
) -> dict[tuple[datetime, str], dict[str, Any]]:
    """Sums per (bucket start, dimension value or "")."""
    qs, time_field = rollups(f, by=by, by_time=True)
    if f.bucket == "day":
        qs = qs.annotate(t=TruncDay(time_field, tzinfo=UTC))
    else:
        qs = qs.annotate(t=F(time_field))
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


def where_sql(
    f: MetricsFilter, *, by: str | None = None, by_time: bool = False
) -> tuple[str, str, str, list[Any]]:
    """(table, time column, WHERE clause, params) of the rows `rollups` would pick."""
    params: list[Any] = []
    projection = coarse_projection(f, by)
    if projection is not None:
        table, time_col = "metrics_coarserollup", "r.start"
        first, last = _day_edges(f)
        params.append(projection)
        if (by_time and f.bucket == "hour") or first >= last:
            clauses = ["r.projection = %s AND r.period = 'hour' AND r.start >= %s AND r.start < %s"]
            params += [f.start, f.end]
        else:
            clauses = [
                "r.projection = %s AND "
                "((r.period = 'day' AND r.start >= %s AND r.start < %s) OR "
                "(r.period = 'hour' AND ((r.start >= %s AND r.start < %s) OR "
                "(r.start >= %s AND r.start < %s))))"
            ]
            params += [first, last, f.start, first, last, f.end]
    else:
        table, time_col = "metrics_hourlyrollup", "r.hour"
        clauses = ["r.hour >= %s AND r.hour < %s"]
        params += [f.start, f.end]
    for name, value in f.dimensions().items():
        clauses.append(f"r.{name} = %s")
        params.append(value)
    return table, time_col, " AND ".join(clauses), params


def histograms(
    f: MetricsFilter, *, metric: str = "latency", by: str | None = None, by_time: bool = False
) -> dict[tuple[Any, ...], histogram.Histogram]:
    """Merged histograms of `metric` ("latency" | "ttft"), keyed by (bucket?, dimension?)."""
    if metric not in ("latency", "ttft"):
        raise ApplicationError("Invalid filter.", details={"metric": "Use latency or ttft."})
    table, time_col, where, params = where_sql(f, by=by, by_time=by_time)
    group: list[str] = []
    if by_time:
        group.append(f"date_trunc('day', {time_col})" if f.bucket == "day" else time_col)
    if by:
        group.append(f"r.{check_dimension(by)}")
    if table == "metrics_coarserollup":
        return _merged_in_python(table, where, params, group, metric)
    return _merged_in_sql(table, where, params, group, metric)


def _merged_in_python(
    table: str, where: str, params: list[Any], group: list[str], metric: str
) -> dict[tuple[Any, ...], histogram.Histogram]:
    """Fetch each row's sparse histogram and add them up here.

    CoarseRollup reads are a few hundred to a few thousand rows (the projection keeps
    only the dimensions asked for), and adding their arrays in Python is 2-4x faster
    than unnesting, sorting and re-aggregating them in PostgreSQL (benchmarks/dashboard.py).
    """
    sql = (
        f"SELECT {', '.join([*group, ''])}r.{metric}_buckets, r.{metric}_counts "  # noqa: S608
        f"FROM {table} r WHERE {where}"
    )
    out: dict[tuple[Any, ...], histogram.Histogram] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            merged = out.setdefault(tuple(row[: len(group)]), {})
            for index, count in zip(row[-2], row[-1], strict=True):
                merged[index] = merged.get(index, 0) + count
    return {key: hist for key, hist in out.items() if hist}


def _merged_in_sql(
    table: str, where: str, params: list[Any], group: list[str], metric: str
) -> dict[tuple[Any, ...], histogram.Histogram]:
    """Merge in PostgreSQL: HourlyRollup reads can span tens of thousands of rows."""
    keys = [f"k{n}" for n in range(len(group))]
    inner = ", ".join([*(f"{g} AS {k}" for g, k in zip(group, keys, strict=True)), "u.b"])
    # One row per key with the merged histogram as two arrays: the per-bucket rows
    # would each carry (and make Python parse) the key's timestamp again.
    outer_group = f" GROUP BY {', '.join(keys)}" if keys else ""
    sql = (
        f"SELECT {', '.join([*keys, ''])}array_agg(b ORDER BY b), array_agg(c ORDER BY b) "  # noqa: S608
        f"FROM (SELECT {inner}, sum(u.c) AS c FROM {table} r, "
        f"unnest(r.{metric}_buckets, r.{metric}_counts) AS u(b, c) "
        f"WHERE {where} GROUP BY {', '.join([*keys, 'u.b'])}) x{outer_group}"
    )
    out: dict[tuple[Any, ...], histogram.Histogram] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            if row[-2] is None:  # no rows at all (an aggregate without GROUP BY)
                continue
            out[tuple(row[: len(keys)])] = dict(zip(row[-2], map(int, row[-1]), strict=True))
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
