"""Build the hourly rollups and the public daily usage from the raw events.

An hour is always rebuilt completely from its events (delete + insert in one
transaction, aggregated by PostgreSQL), so running it twice never double
counts and a late event simply makes its hour dirty again. Ingestion marks
hours dirty in the same transaction as the events (`dirty_hours_mark`: an
upsert that refreshes `marked_at`); the rollup job deletes a DirtyHour row
only if nobody re-marked it while the hour was being rebuilt.

All functions run in the current tenant schema (`connection.schema_name`).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction

from metrics import histogram
from metrics.models import DirtyHour
from metrics.rollups.models import (
    COARSE_PROJECTIONS,
    DEFAULT_TAIL_THRESHOLD_MS,
    ROLLUP_DIMENSIONS,
)

HOUR = timedelta(hours=1)
DIMS = ", ".join(ROLLUP_DIMENSIONS)
_LATENCY_BUCKET = histogram.BUCKET_SQL.format(col="latency_ms")
_TTFT_BUCKET = histogram.BUCKET_SQL.format(col="ttft_ms")
_VALID = "{col} IS NOT NULL AND {col} <> 'NaN'::float8"

# One statement: aggregate the hour's events per combination of the dimensions,
# histograms included, and insert the rows.
_REBUILD_HOUR_SQL = f"""
WITH ev AS MATERIALIZED (
    SELECT {", ".join(f"e.{d}" for d in ROLLUP_DIMENSIONS)},
        e.input_tokens, e.output_tokens, e.cached_input_tokens, e.cost_usd, e.status,
        e.fallback_used, e.retries, e.refused,
        CASE WHEN jsonb_typeof(e.policy_violations) = 'array'
             THEN jsonb_array_length(e.policy_violations) ELSE 0 END AS violations,
        e.latency_ms, e.time_to_first_token_ms AS ttft_ms,
        (e.latency_ms > COALESCE(t.threshold_ms, {DEFAULT_TAIL_THRESHOLD_MS!r})) AS tail,
        CASE WHEN jsonb_typeof(e.scores) <> 'array' OR e.scores = '[]'::jsonb THEN NULL
             ELSE (SELECT avg((s ->> 'value')::float8) FROM jsonb_array_elements(e.scores) s
                   WHERE jsonb_typeof(s -> 'value') = 'number') END AS quality
    FROM metrics_event e
    LEFT JOIN metrics_endpointthreshold t ON t.endpoint = e.endpoint
    WHERE e.timestamp >= %(start)s AND e.timestamp < %(end)s
),
base AS (
    SELECT {DIMS}, count(*) AS requests,
        sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
        sum(cached_input_tokens) AS cached_input_tokens, sum(cost_usd) AS cost_usd,
        count(*) FILTER (WHERE status = 'ok') AS ok_count,
        count(*) FILTER (WHERE status = 'error') AS error_count,
        count(*) FILTER (WHERE status = 'timeout') AS timeout_count,
        count(*) FILTER (WHERE status = 'rate_limited') AS rate_limited_count,
        count(*) FILTER (WHERE status = 'cancelled') AS cancelled_count,
        count(*) FILTER (WHERE fallback_used) AS fallback_count,
        COALESCE(sum(retries), 0) AS retry_count,
        count(*) FILTER (WHERE refused) AS refusal_count,
        sum(violations) AS violation_count,
        count(*) FILTER (WHERE violations > 0) AS violating_requests,
        count(*) FILTER (WHERE tail) AS tail_count,
        COALESCE(sum(quality), 0) AS quality_sum, count(quality) AS quality_count,
        COALESCE(sum(latency_ms) FILTER (WHERE {_VALID.format(col="latency_ms")}), 0)
            AS latency_sum_ms,
        count(*) FILTER (WHERE {_VALID.format(col="latency_ms")}) AS latency_count
    FROM ev GROUP BY {DIMS}
),
lat AS (
    SELECT {DIMS}, array_agg(b ORDER BY b) AS bs, array_agg(c ORDER BY b) AS cs FROM (
        SELECT {DIMS}, {_LATENCY_BUCKET} AS b, count(*)::int AS c
        FROM ev WHERE {_VALID.format(col="latency_ms")} GROUP BY {DIMS}, b
    ) x GROUP BY {DIMS}
),
ttft AS (
    SELECT {DIMS}, array_agg(b ORDER BY b) AS bs, array_agg(c ORDER BY b) AS cs FROM (
        SELECT {DIMS}, {_TTFT_BUCKET} AS b, count(*)::int AS c
        FROM ev WHERE {_VALID.format(col="ttft_ms")} GROUP BY {DIMS}, b
    ) x GROUP BY {DIMS}
)
INSERT INTO metrics_hourlyrollup (
    hour, {DIMS}, requests, input_tokens, output_tokens, cached_input_tokens, cost_usd,
    ok_count, error_count, timeout_count, rate_limited_count, cancelled_count, fallback_count,
    retry_count, refusal_count, violation_count, violating_requests, tail_count,
    quality_sum, quality_count, latency_sum_ms, latency_count,
    latency_buckets, latency_counts, ttft_buckets, ttft_counts
)
SELECT %(start)s, base.*,
    COALESCE(lat.bs, '{{}}'), COALESCE(lat.cs, '{{}}'),
    COALESCE(ttft.bs, '{{}}'), COALESCE(ttft.cs, '{{}}')
FROM base
LEFT JOIN lat USING ({DIMS})
LEFT JOIN ttft USING ({DIMS})
"""  # noqa: S608 (only constants are interpolated)

# CoarseRollup rows of one projection from finer rows: `{dims}` are the projection's
# dimensions, `{source}` a table and `{where}` the rows to sum.
_SUMMED = (
    "requests, input_tokens, output_tokens, cached_input_tokens, cost_usd, ok_count, "
    "error_count, timeout_count, rate_limited_count, cancelled_count, fallback_count, "
    "retry_count, refusal_count, violation_count, violating_requests, tail_count, "
    "quality_sum, quality_count, latency_sum_ms, latency_count"
)
_SUMS = ", ".join(f"sum({c.strip()}) AS {c.strip()}" for c in _SUMMED.split(","))
_BASE_SUMMED = ", ".join(f"base.{c.strip()}" for c in _SUMMED.split(","))
# `k_` is a constant grouping key so that a projection without dimensions ("total")
# groups like the others: no source rows, no output row.
_COARSE_SQL = f"""
WITH base AS (
    SELECT 1 AS k_, {{dims}} {_SUMS} FROM {{source}} r WHERE {{where}} GROUP BY k_ {{group_dims}}
),
lat AS (
    SELECT k_, {{outer_dims}} array_agg(b ORDER BY b) AS bs, array_agg(c ORDER BY b) AS cs FROM (
        SELECT 1 AS k_, {{dims}} u.b, sum(u.c)::int AS c
        FROM {{source}} r, unnest(r.latency_buckets, r.latency_counts) AS u(b, c)
        WHERE {{where}} GROUP BY k_ {{group_dims}}, u.b
    ) x GROUP BY k_ {{group_dims}}
),
ttft AS (
    SELECT k_, {{outer_dims}} array_agg(b ORDER BY b) AS bs, array_agg(c ORDER BY b) AS cs FROM (
        SELECT 1 AS k_, {{dims}} u.b, sum(u.c)::int AS c
        FROM {{source}} r, unnest(r.ttft_buckets, r.ttft_counts) AS u(b, c)
        WHERE {{where}} GROUP BY k_ {{group_dims}}, u.b
    ) x GROUP BY k_ {{group_dims}}
)
INSERT INTO metrics_coarserollup (
    projection, period, start, {DIMS}, {_SUMMED},
    latency_buckets, latency_counts, ttft_buckets, ttft_counts
)
SELECT %(projection)s, %(period)s, %(start)s, {{dim_values}}, {_BASE_SUMMED},
    COALESCE(lat.bs, '{{{{}}}}'), COALESCE(lat.cs, '{{{{}}}}'),
    COALESCE(ttft.bs, '{{{{}}}}'), COALESCE(ttft.cs, '{{{{}}}}')
FROM base
LEFT JOIN lat USING (k_ {{group_dims}})
LEFT JOIN ttft USING (k_ {{group_dims}})
"""  # noqa: S608 (only constants are interpolated)


def _coarse_sql(projection: str, *, source: str, where: str) -> str:
    """INSERT ... SELECT of one projection's rows; dimensions it drops are stored as ''."""
    dims = COARSE_PROJECTIONS[projection]
    return _COARSE_SQL.format(
        dims="".join(f"r.{d} AS {d}, " for d in dims),
        outer_dims="".join(f"{d}, " for d in dims),
        group_dims="".join(f", {d}" for d in dims),
        dim_values=", ".join(f"base.{d}" if d in dims else "''" for d in ROLLUP_DIMENSIONS),
        source=source,
        where=where,
    )


_COARSE_HOUR_SQL = {
    p: _coarse_sql(p, source="metrics_hourlyrollup", where="r.hour = %(start)s")
    for p in COARSE_PROJECTIONS
}
_COARSE_DAY_SQL = {
    p: _coarse_sql(
        p,
        source="metrics_coarserollup",
        where="r.projection = %(projection)s AND r.period = 'hour' "
        "AND r.start >= %(start)s AND r.start < %(end)s",
    )
    for p in COARSE_PROJECTIONS
}

_REBUILD_VIOLATIONS_SQL = """
INSERT INTO metrics_violationrollup
    (hour, feature, model, customer, environment, policy, severity, action, count)
SELECT %(start)s, e.feature, e.model, e.customer, e.environment,
    left(COALESCE(v ->> 'policy', ''), 128), left(COALESCE(v ->> 'severity', ''), 32),
    left(COALESCE(v ->> 'action', ''), 32), count(*)
FROM metrics_event e
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(e.policy_violations) = 'array' THEN e.policy_violations
         ELSE '[]'::jsonb END) v
WHERE e.timestamp >= %(start)s AND e.timestamp < %(end)s
  AND e.policy_violations <> '[]'::jsonb
GROUP BY 2, 3, 4, 5, 6, 7, 8
"""

_DAILY_USAGE_SQL = """
INSERT INTO public.metrics_dailyusage (
    tenant_slug, day, feature, model, requests, input_tokens, output_tokens,
    cached_input_tokens, cost_usd, error_count, violation_count, quality_sum, quality_count,
    updated_at
)
SELECT %(slug)s, %(day)s, feature, model, sum(requests), sum(input_tokens), sum(output_tokens),
    sum(cached_input_tokens), sum(cost_usd), sum(requests - ok_count), sum(violation_count),
    sum(quality_sum), sum(quality_count), now()
FROM metrics_coarserollup
WHERE projection = 'all_but_customer' AND period = 'day' AND start = %(start)s
GROUP BY feature, model
"""


@dataclass(frozen=True)
class RebuildResult:
    hours: int
    rows: int
    seconds: float


def current_schema() -> str:
    """The tenant schema the connection is in (django-tenants sets `schema_name`)."""
    return str(getattr(connection, "schema_name", "public"))


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _lock(kind: str, key: int) -> None:
    """A transaction-scoped lock on (tenant schema, kind, key): one builder at a time."""
    namespace = zlib.crc32(f"{kind}:{current_schema()}".encode()) - 2**31
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, key % 2**31])


def dirty_hours_mark(*, hours: Iterable[datetime]) -> int:
    """Mark hours for rebuilding (call inside the transaction that writes their events).

    The upsert refreshes `marked_at`, so a rebuild already running for that
    hour will not clear the mark and the hour is built again on the next run.
    """
    distinct = sorted({floor_hour(h) for h in hours})
    if not distinct:
        return 0
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO metrics_dirtyhour (hour, marked_at) VALUES (%s, clock_timestamp()) "
            "ON CONFLICT (hour) DO UPDATE SET marked_at = clock_timestamp()",
            [(h,) for h in distinct],
        )
    return len(distinct)


def rollup_hour_rebuild(*, hour: datetime, refresh_daily: bool = True) -> int:
    """Rebuild one hour's rollups (and its day's usage) from raw events; returns rows written."""
    start = floor_hour(hour)
    params = {"start": start, "end": start + HOUR}
    with transaction.atomic():
        _lock("rollup-hour", int(start.timestamp() // 3600))
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM metrics_hourlyrollup WHERE hour = %(start)s", params)
            cursor.execute(_REBUILD_HOUR_SQL, params)
            rows = cursor.rowcount
            cursor.execute("DELETE FROM metrics_violationrollup WHERE hour = %(start)s", params)
            cursor.execute(_REBUILD_VIOLATIONS_SQL, params)
            cursor.execute(
                "DELETE FROM metrics_coarserollup WHERE period = 'hour' AND start = %(start)s",
                params,
            )
            for projection, sql in _COARSE_HOUR_SQL.items():
                cursor.execute(sql, {**params, "period": "hour", "projection": projection})
        if refresh_daily:
            day_rebuild(day=start.date())
    return rows


def day_rebuild(*, day: date) -> None:
    """Re-sum a UTC day: its CoarseRollup day rows, then its public DailyUsage rows."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    params: dict[str, str | date | datetime] = {
        "slug": current_schema(),
        "day": day,
        "start": start,
        "end": start + 24 * HOUR,
    }
    with transaction.atomic():
        _lock("day", day.toordinal())
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM metrics_coarserollup WHERE period = 'day' AND start = %(start)s",
                params,
            )
            for projection, sql in _COARSE_DAY_SQL.items():
                cursor.execute(sql, {**params, "period": "day", "projection": projection})
            cursor.execute(
                "DELETE FROM public.metrics_dailyusage "
                "WHERE tenant_slug = %(slug)s AND day = %(day)s",
                params,
            )
            cursor.execute(_DAILY_USAGE_SQL, params)


def dirty_hours_process(*, max_hours: int = 1000, time_budget_s: float = 200.0) -> RebuildResult:
    """Rebuild dirty hours, newest first, until none are left or the time budget is spent.

    A DirtyHour row is deleted only when its `marked_at` is unchanged since it
    was read, so events that arrive during a rebuild are never lost.
    """
    started = time.monotonic()
    marks = list(DirtyHour.objects.order_by("-hour").values_list("hour", "marked_at")[:max_hours])
    hours = rows = 0
    for hour, marked_at in marks:
        with transaction.atomic():
            rows += rollup_hour_rebuild(hour=hour)
            DirtyHour.objects.filter(hour=hour, marked_at=marked_at).delete()
        hours += 1
        if time.monotonic() - started > time_budget_s:
            break
    return RebuildResult(hours=hours, rows=rows, seconds=time.monotonic() - started)


def rollups_rebuild_range(
    *, start: datetime, end: datetime, progress: Callable[[int, int, datetime], None] | None = None
) -> RebuildResult:
    """Rebuild every hour in [start, end) (empty hours lose their stale rows)."""
    began = time.monotonic()
    first = floor_hour(start)
    total_hours = max(0, int((end - first) / HOUR) + (0 if floor_hour(end) == end else 1))
    rows = 0
    days: set[date] = set()
    for n in range(total_hours):
        hour = first + n * HOUR
        mark = DirtyHour.objects.filter(hour=hour).values_list("marked_at", flat=True).first()
        with transaction.atomic():
            rows += rollup_hour_rebuild(hour=hour, refresh_daily=False)
            if mark is not None:
                DirtyHour.objects.filter(hour=hour, marked_at=mark).delete()
        days.add(hour.date())
        if progress is not None:
            progress(n + 1, total_hours, hour)
    for day in sorted(days):
        day_rebuild(day=day)
    return RebuildResult(hours=total_hours, rows=rows, seconds=time.monotonic() - began)
