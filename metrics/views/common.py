"""What every metrics page shares: the filter from the query string, the filter bar's
choices, the layer tabs, and chart data in the shape static/js/charts.js reads.

Views stay thin: they parse the filter here, call selectors, and hand the
results to a template whose partial is what htmx swaps when a filter changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse

from core.exceptions import ApplicationError
from core.views_helpers import render_page
from metrics.selectors import (
    PRESET_RANGES,
    MetricsFilter,
    Series,
    cost_breakdown,
    metrics_filter_for,
    metrics_filter_from_params,
)
from metrics.selectors.filters import DEFAULT_RANGE
from metrics.templatetags.dashboard import page_url

# The dimensions the filter bar offers (the selectors accept a few more for drill-downs).
BAR_DIMENSIONS = ("feature", "model", "environment", "customer")
DIMENSION_LABELS = {
    "feature": "Feature",
    "model": "Model",
    "environment": "Environment",
    "customer": "Customer",
    "endpoint": "Endpoint",
    "provider": "Provider",
    "query_type": "Query type",
    "content_category": "Content category",
}
RANGE_LABELS = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days"}
LAYER_TABS = (
    ("home", "Overview"),
    ("dash-cost", "Cost"),
    ("dash-latency", "Latency"),
    ("dash-quality", "Quality"),
    ("dash-reliability", "Reliability"),
    ("dash-safety", "Safety"),
    ("dash-events", "Events"),
)
SHARE_COLORS = ("#3b5bdb", "#adb5bd")
# Narrowing flags of the events page that a drill-down link may set.
EVENT_FLAGS = ("failed", "tail", "refused", "violations", "fallback", "scored")


@dataclass
class FilterState:
    """The parsed filter, or the default one plus the errors that made us fall back."""

    filter: MetricsFilter
    errors: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)  # page params the bar keeps (tail=1...)

    @property
    def range_label(self) -> str:
        f = self.filter
        if f.range in RANGE_LABELS:
            return RANGE_LABELS[f.range]
        last_day = (f.end - timedelta(microseconds=1)).date()
        if f.start.date() == last_day:
            return f"{f.start:%b %-d, %Y} (UTC)"
        return f"{f.start:%b %-d} \u2013 {last_day:%b %-d, %Y} (UTC)"

    @property
    def custom_from(self) -> str:
        return self.filter.start.date().isoformat()

    @property
    def custom_to(self) -> str:
        return (self.filter.end - timedelta(microseconds=1)).date().isoformat()

    @property
    def active_dimensions(self) -> list[tuple[str, str, str]]:
        """(name, label, value) of every dimension filter that is set."""
        return [
            (name, DIMENSION_LABELS.get(name, name), value)
            for name, value in self.filter.dimensions().items()
        ]


def filter_state(request: HttpRequest, *, keep: Sequence[str] = ()) -> FilterState:
    """Parse range and dimension filters from the query string.

    Bad values never raise: the page names each bad parameter and why above the data
    of the default range (keeping the filters that were fine), so the user can correct it.
    """
    extra = {name: str(request.GET[name]) for name in keep if request.GET.get(name)}
    try:
        return FilterState(filter=metrics_filter_from_params(request.GET), extra=extra)
    except ApplicationError as exc:
        errors = {str(k): str(v) for k, v in exc.details.items()} or {"range": exc.message}
    # Keep what parsed on its own: the good dimension filters; a bad range falls back to
    # the default one.
    params = {k: v for k, v in request.GET.items() if k not in errors}
    if errors.keys() & {"range", "from", "to"}:
        params = {k: v for k, v in params.items() if k not in ("range", "from", "to")}
    try:
        fallback = metrics_filter_from_params(params)
    except ApplicationError:
        fallback = metrics_filter_for()
    return FilterState(filter=fallback, errors=errors, extra=extra)


def dimension_choices(f: MetricsFilter) -> dict[str, list[str]]:
    """Values each filter-bar dropdown offers: those seen in the range, the current one kept.

    Each list ignores its own dimension's filter, so one can switch from one
    feature to another without clearing the filter first.
    """
    choices: dict[str, list[str]] = {}
    for name in BAR_DIMENSIONS:
        rows = cost_breakdown(f.with_dimensions(**{name: None}), by=name)
        values = sorted({row.key for row in rows if row.key})
        current = getattr(f, name)
        if current and current not in values:
            values.insert(0, current)
        choices[name] = values
    return choices


def _bar_fields(f: MetricsFilter) -> list[dict[str, Any]]:
    choices = dimension_choices(f)
    return [
        {
            "name": name,
            "label": DIMENSION_LABELS[name],
            "choices": choices[name],
            "value": getattr(f, name) or "",
        }
        for name in BAR_DIMENSIONS
    ]


def tabs(f: MetricsFilter, current: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "label": label, "href": page_url(name, f), "active": name == current}
        for name, label in LAYER_TABS
    ]


def render_dashboard(
    request: HttpRequest,
    *,
    page: str,
    template: str,
    partial: str,
    state: FilterState,
    context: dict[str, Any],
) -> HttpResponse:
    """Render a metrics page (or, for htmx, its partial) with the shared filter bar."""
    f = state.filter
    full = not getattr(request, "htmx", False)
    base = {
        "state": state,
        "f": f,
        "page": page,
        "tabs": tabs(f, page),
        "ranges": [(key, key) for key in PRESET_RANGES] + [("custom", "Custom")],
        "bar_fields": _bar_fields(f) if full else [],
        "hidden_dimensions": [d for d in state.active_dimensions if d[0] not in BAR_DIMENSIONS],
        "page_path": request.path,
        "default_range": DEFAULT_RANGE,
    }
    return render_page(request, template, partial, {**base, **context})


# Charts ---------------------------------------------------------------------------------


def _epoch(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())


def _clean(values: Iterable[Any]) -> list[float | None]:
    return [None if v is None else round(float(v), 6) for v in values]


def series_chart(
    series: Series,
    *,
    fmt: str,
    kind: str = "timeseries",
    labels: dict[str, str] | None = None,
    colors: dict[str, str] | None = None,
    height: int | None = None,
    empty: str = "No data in this range.",
    sparse: bool = False,
    tight: bool = False,
) -> dict[str, Any]:
    """A Series as the JSON that charts.js draws (x in epoch seconds, one line per name)."""
    labels = labels or {}
    colors = colors or {}
    lines = []
    for name, values in series.lines.items():
        line: dict[str, Any] = {
            "label": labels.get(name, name or "(none)"),
            "values": _clean(values),
        }
        if name in colors:
            line["color"] = colors[name]
        lines.append(line)
    has_data = any(v not in (None, 0.0) for line in lines for v in line["values"])
    chart: dict[str, Any] = {
        "kind": kind,
        "format": fmt,
        "x": [_epoch(b) for b in series.buckets] if has_data else [],
        "series": lines,
        "step": 3600 if series.bucket == "hour" else 86400,
        "empty": empty,
    }
    if height:
        chart["height"] = height
    if tight:  # a rate near 100%: zoom in on the dips rather than start at 0
        chart["tight"] = True
    if sparse:  # few points (sampled scores): join them and show each point
        chart["spanGaps"] = True
        chart["points"] = True
    return chart


def share_chart(
    categories: list[str],
    lines: list[tuple[str, list[float | None]]],
    *,
    fmt: str = "pct",
    height: int = 260,
) -> dict[str, Any]:
    """Bars per category, one series per line (e.g. cost share next to request share)."""
    return {
        "kind": "share",
        "format": fmt,
        "categories": [c or "(none)" for c in categories],
        "series": [
            {"label": label, "values": _clean(values), "color": color}
            for (label, values), color in zip(lines, SHARE_COLORS, strict=False)
        ],
        "height": height,
    }


def spark(series: Series, name: str, *, fmt: str, color: str | None = None) -> dict[str, Any]:
    one = Series(buckets=series.buckets, bucket=series.bucket, lines={name: series.lines[name]})
    chart = series_chart(one, fmt=fmt, kind="spark", empty="No data")
    if color:
        chart["series"][0]["color"] = color
    return chart
