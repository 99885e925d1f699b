"""One page per metric layer: cost, latency, quality, reliability, safety.

Each reads the filter bar, calls the layer's selectors, and renders the page (or
only its body for htmx). A `by` query parameter picks the breakdown dimension.
"""

from __future__ import annotations

from dataclasses import replace

from django.http import HttpRequest, HttpResponse

from core.roles import tenant_page
from metrics import selectors
from metrics.views.common import (
    DIMENSION_LABELS,
    FilterState,
    filter_state,
    render_dashboard,
    series_chart,
    share_chart,
)

COST_BY = ("feature", "model", "customer", "query_type", "endpoint", "provider", "environment")
LATENCY_BY = ("endpoint", "feature", "model", "provider")
QUALITY_BY = ("content_category", "feature", "model")
RELIABILITY_BY = ("provider", "model", "feature", "endpoint")
STATUS_LABELS = {
    "error": "Error",
    "timeout": "Timeout",
    "rate_limited": "Rate limited",
    "cancelled": "Cancelled",
}
QUANTILE_COLORS = {"p50": "#2b8a3e", "p95": "#f08c00", "p99": "#c92a2a"}


def _by(request: HttpRequest, allowed: tuple[str, ...]) -> tuple[str, str | None]:
    """The breakdown dimension from `?by=`; an unknown one falls back with an error."""
    raw = request.GET.get("by") or allowed[0]
    if raw in allowed:
        return raw, None
    return allowed[0], f"Break down by one of: {', '.join(allowed)}."


def _by_options(allowed: tuple[str, ...], current: str) -> list[dict[str, object]]:
    return [
        {"name": name, "label": DIMENSION_LABELS.get(name, name), "active": name == current}
        for name in allowed
    ]


def _render(
    request: HttpRequest, page: str, name: str, allowed: tuple[str, ...] | None, context: dict
) -> HttpResponse:
    state = context.pop("state")
    if allowed:
        by = context["by"]
        context["by_options"] = _by_options(allowed, by)
        context["by_label"] = DIMENSION_LABELS.get(by, by)
    return render_dashboard(
        request,
        page=page,
        template=f"metrics/{name}.html",
        partial=f"metrics/_{name}.html",
        state=state,
        context=context,
    )


def _state(request: HttpRequest, allowed: tuple[str, ...]) -> tuple[FilterState, str]:
    """The filter bar's state and the breakdown dimension (`?by=`) of a layer page."""
    state = filter_state(request)
    by, error = _by(request, allowed)
    if error:
        state.errors["by"] = error
    return state, by


@tenant_page("dashboard")
def cost_page(request: HttpRequest) -> HttpResponse:
    state, by = _state(request, COST_BY)
    f = state.filter
    rows = selectors.cost_breakdown(f, by=by)
    top = rows[:8]
    context = {
        "state": state,
        "by": by,
        "summary": selectors.cost_summary(f),
        "rows": rows,
        "concentration": selectors.cost_concentration(f, by="feature", top=3),
        "customers": selectors.cost_concentration(f, by="customer", top=3),
        "days": [
            (day, cost, requests, cost / requests if requests else None)
            for day, cost, requests in selectors.cost_per_day(f)
        ],
        "charts": {
            "chart-spend-by": series_chart(selectors.cost_series(f, by=by, top=6), fmt="usd"),
            "chart-spend-day": series_chart(
                selectors.cost_series(replace(f, resolution="day")),
                fmt="usd",
                kind="bars",
                labels={"cost_usd": "spend"},
            ),
            "chart-share": share_chart(
                [r.key for r in top],
                [
                    ("cost share", [r.cost_share for r in top]),
                    ("request share", [r.request_share for r in top]),
                ],
            ),
        },
    }
    return _render(request, "dash-cost", "cost", COST_BY, context)


@tenant_page("dashboard")
def latency_page(request: HttpRequest) -> HttpResponse:
    state, by = _state(request, LATENCY_BY)
    f = state.filter
    context = {
        "state": state,
        "by": by,
        "summary": selectors.latency_summary(f),
        "rows": selectors.latency_breakdown(f, by=by),
        "tail": selectors.tail_events(f, limit=25),
        "charts": {
            "chart-quantiles": series_chart(
                selectors.latency_series(f), fmt="ms", colors=QUANTILE_COLORS
            ),
            "chart-p99-by": series_chart(selectors.latency_series(f, by=by), fmt="ms"),
            "chart-ttft-by": series_chart(
                selectors.latency_series(f, by=by, metric="ttft", quantile="p95"),
                fmt="ms",
                empty="No time-to-first-token reported in this range.",
            ),
            "chart-ttft": series_chart(
                selectors.latency_series(f, metric="ttft"),
                fmt="ms",
                colors=QUANTILE_COLORS,
                empty="No time-to-first-token reported in this range.",
            ),
        },
    }
    return _render(request, "dash-latency", "latency", LATENCY_BY, context)


@tenant_page("dashboard")
def quality_page(request: HttpRequest) -> HttpResponse:
    state, by = _state(request, QUALITY_BY)
    f = state.filter
    context = {
        "state": state,
        "by": by,
        "summary": selectors.quality_summary(f),
        "rows": selectors.quality_breakdown(f, by=by),
        "charts": {
            "chart-quality-by": series_chart(
                selectors.quality_series(f, by=by),
                fmt="score",
                empty="No quality scores in this range.",
                sparse=True,
            ),
            "chart-quality": series_chart(
                selectors.quality_series(f, by=None),
                fmt="score",
                colors={"quality": "#2b8a3e"},
                empty="No quality scores in this range.",
                sparse=True,
            ),
        },
    }
    return _render(request, "dash-quality", "quality", QUALITY_BY, context)


@tenant_page("dashboard")
def reliability_page(request: HttpRequest) -> HttpResponse:
    state, by = _state(request, RELIABILITY_BY)
    f = state.filter
    context = {
        "state": state,
        "by": by,
        "summary": selectors.reliability_summary(f),
        "rows": selectors.reliability_breakdown(f, by=by),
        "statuses": STATUS_LABELS,
        "charts": {
            "chart-errors": series_chart(
                selectors.error_series(f),
                fmt="count",
                labels={"rate_limited": "rate limited"},
                empty="No failed calls in this range.",
            ),
            "chart-availability": series_chart(
                selectors.provider_availability_series(f), fmt="pct", tight=True
            ),
            "chart-fallback": series_chart(
                selectors.fallback_series(f),
                fmt="pct",
                labels={"fallback_rate": "fallback rate"},
                colors={"fallback_rate": "#f08c00"},
                empty="No call needed a fallback in this range.",
            ),
        },
    }
    return _render(request, "dash-reliability", "reliability", RELIABILITY_BY, context)


@tenant_page("dashboard")
def safety_page(request: HttpRequest) -> HttpResponse:
    state = filter_state(request)
    f = state.filter
    series = selectors.safety_series(f)
    refusals = selectors.Series(
        buckets=series.buckets,
        bucket=series.bucket,
        lines={"refusal_rate": series.lines["refusal_rate"]},
    )
    violations = selectors.Series(
        buckets=series.buckets,
        bucket=series.bucket,
        lines={"violations": series.lines["violations"]},
    )
    context = {
        "state": state,
        "summary": selectors.safety_summary(f),
        "violations": selectors.violations_breakdown(f),
        "charts": {
            "chart-refusals": series_chart(
                refusals,
                empty="No refusals in this range.",
                fmt="pct",
                labels={"refusal_rate": "refusal rate"},
                colors={"refusal_rate": "#7048e8"},
            ),
            "chart-violations": series_chart(
                violations,
                fmt="count",
                kind="bars",
                colors={"violations": "#c92a2a"},
                empty="No policy violations in this range.",
            ),
        },
    }
    return _render(request, "dash-safety", "safety", None, context)
