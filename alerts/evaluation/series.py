"""A plain metric over time as the engine sees it (a sliding window), for charts.

Used by the rule form's preview and by the incident page's chart around the
breach. Reads raw minutes for the whole range in one query, so ranges are
capped at two days; spend against projection, budgets, burn rates and
findings have no chart here (their incident timeline carries the values).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.evaluation.aggregates import PERCENTILE_METRICS, metric_value
from alerts.evaluation.data import Selection, floor_minute, tenant_data_load
from alerts.rules.models import SCOPE_DIMENSIONS

MAX_RANGE = timedelta(days=2)
MAX_POINTS = 150
NO_SERIES = {
    "spend_vs_projection",
    "budget_used",
    "monthly_forecast",
    "slo_burn",
    "quality_finding",
}


@dataclass(frozen=True)
class MetricSeries:
    times: list[datetime]
    values: dict[str, list[float | None]]  # per split key (top 5 by last value)


def metric_series(
    *,
    metric: str,
    scope: dict[str, str],
    split_by: str,
    window_minutes: int,
    start: datetime,
    end: datetime,
    only_key: str | None = None,
) -> MetricSeries:
    if metric in NO_SERIES:
        return MetricSeries(times=[], values={})
    end = floor_minute(end)
    start = max(floor_minute(start), end - MAX_RANGE)
    window = timedelta(minutes=max(1, min(window_minutes, 24 * 60)))
    dims = set(scope) | ({split_by} if split_by else set())
    hists = (PERCENTILE_METRICS[metric][0],) if metric in PERCENTILE_METRICS else ()
    data = tenant_data_load(
        now=end, dims=dims & set(SCOPE_DIMENSIONS), histograms=hists, raw_start=start - window
    )
    step = max(timedelta(minutes=1), (end - start) / MAX_POINTS)
    step = timedelta(minutes=max(1, round(step.total_seconds() / 60)))
    times: list[datetime] = []
    values: dict[str, list[float | None]] = {}
    moment = start
    while moment <= end:
        sel = Selection(
            scope=tuple(sorted(scope.items())),
            split_by=split_by,
            start=moment - window,
            histograms=hists,
        )
        aggs = data.window(sel, end=moment)
        index = len(times)
        times.append(moment)
        for key, agg in aggs.items():
            if only_key is not None and key != only_key:
                continue
            values.setdefault(key, [None] * index).append(metric_value(metric, agg))
        for line in values.values():
            if len(line) < len(times):
                line.append(None)
        moment += step
    if len(values) > 5:
        ranked = sorted(values, key=lambda k: max((v or 0) for v in values[k]), reverse=True)
        values = {k: values[k] for k in ranked[:5]}
    return MetricSeries(times=times, values=values)
