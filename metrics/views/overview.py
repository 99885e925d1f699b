"""The tenant's start page: the five layers at a glance against the previous period.

A tenant without events (or a role without the dashboard) gets the start page of
tenants.views.settings instead, which explains how to send the first event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.http import HttpRequest, HttpResponse

from core.roles import role_allows, tenant_page
from metrics import selectors
from metrics.views.common import (
    filter_state,
    render_dashboard,
    series_chart,
    share_chart,
    spark,
)
from tenants.views.settings import tenant_home

# Which headline leads each layer's card, and the secondary line under it.
PRIMARY = {
    "cost": "cost_usd",
    "latency": "p99_ms",
    "quality": "quality",
    "reliability": "error_rate",
    "safety": "violations",
}
PAGES = {
    "cost": "dash-cost",
    "latency": "dash-latency",
    "quality": "dash-quality",
    "reliability": "dash-reliability",
    "safety": "dash-safety",
}
COLORS = {
    "cost": "#3b5bdb",
    "latency": "#e8590c",
    "quality": "#2b8a3e",
    "reliability": "#c92a2a",
    "safety": "#7048e8",
}


def tenant_has_events() -> bool:
    """Whether the tenant has ever sent an event (any time, any filter)."""
    everything = selectors.MetricsFilter(
        start=datetime(2000, 1, 1, tzinfo=UTC),
        end=datetime.now(tz=UTC) + timedelta(days=366),
        range="custom",
    )
    return selectors.events_filtered(everything).exists()


def _failures(series: selectors.Series) -> selectors.Series:
    lines = list(series.lines.values())
    total = [sum(v or 0.0 for v in values) for values in zip(*lines, strict=True)] if lines else []
    return selectors.Series(buckets=series.buckets, bucket=series.bucket, lines={"failed": total})


@tenant_page("overview")
def overview_page(request: HttpRequest) -> HttpResponse:
    role = getattr(request, "vigil_role", "")
    if not role_allows(role, "dashboard") or not tenant_has_events():
        return tenant_home(request)
    state = filter_state(request)
    f = state.filter
    ov = selectors.overview(f)
    spend = selectors.cost_series(f)
    spend_by_feature = selectors.cost_series(f, by="feature", top=5)
    latency = selectors.latency_series(f)
    quality = selectors.quality_series(f, by=None)
    quality_by_category = selectors.quality_series(f)
    failures = selectors.error_series(f)
    safety = selectors.safety_series(f)
    concentration = selectors.cost_concentration(f, by="feature", top=3)
    shares = selectors.cost_breakdown(f, by="feature")[:6]

    sparks = {
        "cost": spark(spend, "cost_usd", fmt="usd", color=COLORS["cost"]),
        "latency": spark(latency, "p99", fmt="ms", color=COLORS["latency"]),
        "quality": spark(
            quality, next(iter(quality.lines), "quality"), fmt="score", color=COLORS["quality"]
        )
        if quality.lines
        else {"kind": "spark", "x": [], "series": [], "empty": "No scores"},
        "reliability": spark(
            _failures(failures), "failed", fmt="count", color=COLORS["reliability"]
        ),
        "safety": spark(safety, "violations", fmt="count", color=COLORS["safety"]),
    }
    cards = []
    for layer, name in PRIMARY.items():
        cards.append(
            {
                "layer": layer,
                "headline": ov.get(name),
                "others": [h for h in ov.layer(layer) if h.name != name],
                "page": PAGES[layer],
                "spark_id": f"spark-{layer}",
                "spark": sparks[layer],
            }
        )
    charts = {
        "chart-spend": series_chart(spend_by_feature, fmt="usd"),
        "chart-latency": series_chart(
            latency, fmt="ms", colors={"p50": "#2b8a3e", "p95": "#f08c00", "p99": "#c92a2a"}
        ),
        "chart-quality": series_chart(
            quality_by_category, fmt="score", empty="No quality scores in this range.", sparse=True
        ),
        "chart-failures": series_chart(
            _failures(failures),
            fmt="count",
            kind="bars",
            labels={"failed": "failed calls"},
            colors={"failed": COLORS["reliability"]},
            empty="No failed calls in this range.",
        ),
        "chart-share": share_chart(
            [r.key for r in shares],
            [
                ("cost share", [r.cost_share for r in shares]),
                ("request share", [r.request_share for r in shares]),
            ],
            height=200,
        ),
        "chart-safety": series_chart(
            selectors.Series(
                buckets=safety.buckets,
                bucket=safety.bucket,
                lines={"refusal_rate": safety.lines["refusal_rate"]},
            ),
            fmt="pct",
            labels={"refusal_rate": "refusal rate"},
            colors={"refusal_rate": COLORS["safety"]},
            empty="No refusals in this range.",
        ),
    }
    context = {"ov": ov, "cards": cards, "charts": charts, "concentration": concentration}
    return render_dashboard(
        request,
        page="home",
        template="metrics/overview.html",
        partial="metrics/_overview.html",
        state=state,
        context=context,
    )
