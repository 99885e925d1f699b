"""What one evaluation cycle reads for a tenant: recent raw minutes plus older hourly rollups.

The last one to two hours (from the start of the previous hour to `now`)
come from the raw events at minute resolution, in one query per cycle, because
their rollups may not be built yet; the hours before come from the hourly
rollups (metrics.rollups), cached for a few minutes per rule and hour range
since complete hours rarely change. Windows that reach past the raw range are
counted in whole hours from the first hour that starts inside the window.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from alerts.cache import cache_key, cached_many, cached_store
from alerts.evaluation.aggregates import Agg, agg_from_row, scalars
from alerts.rules.models import SCOPE_DIMENSIONS
from metrics import histogram
from metrics.rollups.models import DEFAULT_TAIL_THRESHOLD_MS

HOUR = timedelta(hours=1)
ROLLUP_CACHE_S = 300
_QUALITY_SQL = (
    "CASE WHEN jsonb_typeof(e.scores) <> 'array' OR e.scores = '[]'::jsonb THEN NULL "
    "ELSE (SELECT avg((s ->> 'value')::float8) FROM jsonb_array_elements(e.scores) s "
    "WHERE jsonb_typeof(s -> 'value') = 'number') END"
)
_RAW_SUMS = f"""
    count(*), COALESCE(sum(e.cost_usd), 0), COALESCE(sum(e.input_tokens + e.output_tokens), 0),
    count(*) FILTER (WHERE e.status = 'ok'), count(*) FILTER (WHERE e.status = 'error'),
    count(*) FILTER (WHERE e.status = 'timeout'),
    count(*) FILTER (WHERE e.status = 'rate_limited'),
    count(*) FILTER (WHERE e.status = 'cancelled'), count(*) FILTER (WHERE e.fallback_used),
    count(*) FILTER (WHERE e.refused), COALESCE(sum(e.violation_count), 0),
    count(*) FILTER (WHERE e.latency_ms > COALESCE(t.threshold_ms, {DEFAULT_TAIL_THRESHOLD_MS!r})),
    COALESCE(sum({_QUALITY_SQL}), 0), count({_QUALITY_SQL})
"""
_ROLLUP_SUMS = """
    sum(requests), sum(cost_usd), sum(input_tokens + output_tokens), sum(ok_count),
    sum(error_count), sum(timeout_count), sum(rate_limited_count), sum(cancelled_count),
    sum(fallback_count), sum(refusal_count), sum(violation_count), sum(tail_count),
    sum(quality_sum), sum(quality_count)
"""


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == moment else floored + HOUR


def floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Selection:
    """What a rule aggregates: the scope filters, the split dimension and the window start."""

    scope: tuple[tuple[str, str], ...]
    split_by: str
    start: datetime
    histograms: tuple[str, ...] = ()  # "latency" and/or "ttft"

    def matches(self, dims: dict[str, str]) -> bool:
        return all(dims.get(name) == value for name, value in self.scope)


@dataclass
class TenantData:
    """Raw minutes of [raw_start, now) for one tenant, keyed by (minute, dimension values)."""

    now: datetime
    raw_start: datetime
    dims: tuple[str, ...]
    minutes: dict[tuple[datetime, tuple[str, ...]], Agg] = field(default_factory=dict)
    # Per dimension combination: its minutes in order and prefix sums of the scalar columns,
    # so any window of any rule costs two bisections per combination (built on first use).
    _series: dict[tuple[str, ...], tuple[list[datetime], list[Agg], list[tuple[Any, ...]]]] = field(
        default_factory=dict
    )

    # Hourly rollups read for this cycle, per histogram kinds: hour -> dimension values -> sums.
    # One query serves every rule whose cached hours are missing (e.g. when the hour turns).
    _cubes: dict[tuple[str, ...], dict[datetime, dict[tuple[str, ...], Agg]]] = field(
        default_factory=dict
    )

    def covers(self, sel: Selection) -> bool:
        names = {name for name, _ in sel.scope} | ({sel.split_by} if sel.split_by else set())
        return names <= set(self.dims)

    def rollup_hours(self, hours: list[datetime], sel: Selection) -> dict[datetime, dict[str, Agg]]:
        cube = self._cubes.setdefault(sel.histograms, {})
        need = [h for h in hours if h not in cube]
        if need:
            fetched = rollup_cube(
                dims=self.dims, start=need[0], end=need[-1] + HOUR, histograms=sel.histograms
            )
            moment = need[0]
            while moment <= need[-1]:
                cube[moment] = fetched.get(moment, {})
                moment += HOUR
        split_pos = self.dims.index(sel.split_by) if sel.split_by else -1
        scope_pos = [(self.dims.index(name), value) for name, value in sel.scope]
        out: dict[datetime, dict[str, Agg]] = {}
        for hour in hours:
            per_key: dict[str, Agg] = {}
            for values, agg in cube[hour].items():
                if any(values[pos] != value for pos, value in scope_pos):
                    continue
                key = values[split_pos] if split_pos >= 0 else ""
                per_key.setdefault(key, Agg()).add(agg)
            out[hour] = per_key
        return out

    def _index(self) -> None:
        rows: dict[tuple[str, ...], list[tuple[datetime, Agg]]] = {}
        for (minute, values), agg in self.minutes.items():
            rows.setdefault(values, []).append((minute, agg))
        for values, items in rows.items():
            items.sort(key=lambda item: item[0])
            prefix: list[tuple[Any, ...]] = [scalars(Agg())]
            for _, agg in items:
                prefix.append(tuple(a + b for a, b in zip(prefix[-1], scalars(agg), strict=True)))
            self._series[values] = ([m for m, _ in items], [a for _, a in items], prefix)

    def window(self, sel: Selection, end: datetime | None = None) -> dict[str, Agg]:
        """Aggregates per split key over [sel.start, end or now) ("" is the key without split)."""
        out: dict[str, Agg] = {}
        end = end or self.now
        if sel.start < self.raw_start:
            rolled = rollup_window(sel, start=sel.start, end=self.raw_start, data=self)
            for key, agg in rolled.items():
                out.setdefault(key, Agg()).add(agg)
        if not self._series and self.minutes:
            self._index()
        split_pos = self.dims.index(sel.split_by) if sel.split_by else -1
        scope_pos = [(self.dims.index(name), value) for name, value in sel.scope]
        for values, (minutes, aggs, prefix) in self._series.items():
            if any(values[pos] != value for pos, value in scope_pos):
                continue
            lo = bisect_left(minutes, sel.start)
            hi = bisect_left(minutes, end)
            if hi <= lo:
                continue
            part = agg_from_row(tuple(b - a for a, b in zip(prefix[lo], prefix[hi], strict=True)))
            for agg in aggs[lo:hi] if sel.histograms else ():
                part.add_histograms(agg)
            key = values[split_pos] if split_pos >= 0 else ""
            out.setdefault(key, Agg()).add(part)
        return out


def tenant_data_load(
    *,
    now: datetime,
    dims: Iterable[str],
    histograms: Iterable[str] = (),
    raw_start: datetime | None = None,
) -> TenantData:
    """One query for the recent raw minutes (plus one per histogram kind that a rule needs).

    `raw_start` defaults to the start of the previous hour; charts pass an earlier one.
    """
    wanted = tuple(d for d in SCOPE_DIMENSIONS if d in set(dims))
    raw_start = raw_start or floor_hour(now) - HOUR
    data = TenantData(now=now, raw_start=raw_start, dims=wanted)
    cols = "".join(f", e.{d}" for d in wanted)
    group = ", ".join(str(i) for i in range(1, len(wanted) + 2))
    params = [raw_start, now]
    sql = (
        f"SELECT date_trunc('minute', e.timestamp){cols}, {_RAW_SUMS} "  # noqa: S608
        "FROM metrics_event e LEFT JOIN metrics_endpointthreshold t ON t.endpoint = e.endpoint "
        f"WHERE e.timestamp >= %s AND e.timestamp < %s GROUP BY {group}"
    )
    n = len(wanted)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            data.minutes[(row[0], tuple(row[1 : n + 1]))] = agg_from_row(tuple(row[n + 1 :]))
        for kind in sorted(set(histograms)):
            column = "e.latency_ms" if kind == "latency" else "e.time_to_first_token_ms"
            bucket = histogram.BUCKET_SQL.format(col=column)
            cursor.execute(
                f"SELECT date_trunc('minute', e.timestamp){cols}, {bucket}, count(*) "  # noqa: S608
                "FROM metrics_event e WHERE e.timestamp >= %s AND e.timestamp < %s "
                f"AND {column} IS NOT NULL AND {column} <> 'NaN'::float8 "
                f"GROUP BY {group}, {n + 2}",
                params,
            )
            for row in cursor.fetchall():
                agg = data.minutes.get((row[0], tuple(row[1 : n + 1])))
                if agg is not None:
                    hist = agg.latency if kind == "latency" else agg.ttft
                    hist[int(row[n + 1])] = int(row[n + 2])
    return data


def rollup_window(
    sel: Selection, *, start: datetime, end: datetime, data: TenantData | None = None
) -> dict[str, Agg]:
    """Sums per split key over the whole hours in [ceil_hour(start), end).

    Each complete hour's sums are cached on their own (in-process, then Redis,
    for ROLLUP_CACHE_S), so when the hour turns only the newly complete hour is
    read, in one query with any other missing hours, instead of the whole window.
    """
    first = ceil_hour(start)
    if first >= end:
        return {}
    hours = []
    moment = first
    while moment < end:
        hours.append(moment)
        moment += HOUR
    keys = {h: cache_key("rollup-hour", sel.split_by, sel.scope, sel.histograms, h) for h in hours}
    found = cached_many(list(keys.values()))
    missing = [h for h in hours if keys[h] not in found]
    if missing and data is not None and data.covers(sel):
        fresh = {keys[h]: split_aggs for h, split_aggs in data.rollup_hours(missing, sel).items()}
        cached_store(fresh, ROLLUP_CACHE_S)
        found.update(fresh)
    elif missing:
        rows = rollup_sums(
            scope=dict(sel.scope),
            split_by=sel.split_by,
            start=missing[0],
            end=missing[-1] + HOUR,
            histograms=sel.histograms,
            by_hour=True,
        )
        per_hour: dict[datetime, dict[str, Agg]] = {h: {} for h in missing}
        for label, agg in rows.items():
            hour_iso, split_key = label.split("|", 1)
            hour = datetime.fromisoformat(hour_iso)
            if hour in per_hour:
                per_hour[hour][split_key] = agg
        fresh = {keys[h]: per_hour[h] for h in missing}
        cached_store(fresh, ROLLUP_CACHE_S)
        found.update(fresh)
    out: dict[str, Agg] = {}
    for hour in hours:
        for split_key, agg in found[keys[hour]].items():
            out.setdefault(split_key, Agg()).add(agg)
    return out


def rollup_sums(
    *,
    scope: dict[str, str],
    split_by: str,
    start: datetime,
    end: datetime,
    histograms: Sequence[str] = (),
    by_hour: bool = False,
) -> dict[str, Agg]:
    """Hourly rollups summed per split key (or per "hour-iso|split" when by_hour)."""
    where = ["hour >= %s", "hour < %s"]
    params: list[Any] = [start, end]
    for name, value in scope.items():
        if name not in SCOPE_DIMENSIONS:
            raise ValueError(name)
        where.append(f"{name} = %s")
        params.append(value)
    keys = [f"{split_by}" if split_by else "''"]
    if split_by and split_by not in SCOPE_DIMENSIONS:
        raise ValueError(split_by)
    if by_hour:
        keys.append("hour")
    key_sql = ", ".join(keys)
    group = ", ".join(str(i) for i in range(1, len(keys) + 1))
    out: dict[str, Agg] = {}

    def label(row: Sequence[object]) -> str:
        return f"{row[1].isoformat()}|{row[0]}" if by_hour else str(row[0])  # type: ignore[attr-defined]

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {key_sql}, {_ROLLUP_SUMS} FROM metrics_hourlyrollup "  # noqa: S608
            f"WHERE {' AND '.join(where)} GROUP BY {group}",
            params,
        )
        for row in cursor.fetchall():
            out[label(row)] = agg_from_row(tuple(row[len(keys) :]))
        for kind in histograms:
            cursor.execute(
                f"SELECT {key_sql}, u.b, sum(u.c) FROM metrics_hourlyrollup r, "  # noqa: S608
                f"unnest(r.{kind}_buckets, r.{kind}_counts) AS u(b, c) "
                f"WHERE {' AND '.join(where)} GROUP BY {group}, u.b",
                params,
            )
            for row in cursor.fetchall():
                agg = out.setdefault(label(row), Agg())
                hist = agg.latency if kind == "latency" else agg.ttft
                hist[int(row[-2])] = hist.get(int(row[-2]), 0) + int(row[-1])
    return out


def rollup_cube(
    *, dims: tuple[str, ...], start: datetime, end: datetime, histograms: Sequence[str] = ()
) -> dict[datetime, dict[tuple[str, ...], Agg]]:
    """Hourly rollups in [start, end) grouped by hour and `dims` (one query, plus one per
    histogram kind)."""
    if any(d not in SCOPE_DIMENSIONS for d in dims):
        raise ValueError(dims)
    cols = "".join(f", {d}" for d in dims)
    group = ", ".join(str(i) for i in range(1, len(dims) + 2))
    n = len(dims)
    out: dict[datetime, dict[tuple[str, ...], Agg]] = {}
    params = [start, end]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT hour{cols}, {_ROLLUP_SUMS} FROM metrics_hourlyrollup "  # noqa: S608
            f"WHERE hour >= %s AND hour < %s GROUP BY {group}",
            params,
        )
        for row in cursor.fetchall():
            out.setdefault(row[0], {})[tuple(row[1 : n + 1])] = agg_from_row(tuple(row[n + 1 :]))
        for kind in histograms:
            cursor.execute(
                f"SELECT hour{cols}, u.b, sum(u.c) FROM metrics_hourlyrollup r, "  # noqa: S608
                f"unnest(r.{kind}_buckets, r.{kind}_counts) AS u(b, c) "
                f"WHERE hour >= %s AND hour < %s GROUP BY {group}, u.b",
                params,
            )
            for row in cursor.fetchall():
                agg = out.setdefault(row[0], {}).setdefault(tuple(row[1 : n + 1]), Agg())
                hist = agg.latency if kind == "latency" else agg.ttft
                hist[int(row[-2])] = hist.get(int(row[-2]), 0) + int(row[-1])
    return out
