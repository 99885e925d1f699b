"""Every selector against the raw events it summarises."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db import connection

from core.exceptions import ApplicationError, NotFoundError
from metrics import selectors as s
from metrics.models import Event
from metrics.selectors._query import coarse_projection
from tenants.models import Tenant

from .factories import add_events, hours_ago, in_tenant


def _exact(values: list[float], q: float) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY v) FROM unnest(%s::float8[]) v",
            [q, values],
        )
        return float(cursor.fetchone()[0])


def _in(f: s.MetricsFilter, events: list[Event]) -> list[Event]:
    dims = f.dimensions()
    return [
        e
        for e in events
        if f.start <= e.timestamp < f.end and all(getattr(e, k) == v for k, v in dims.items())
    ]


def test_cost_summary_and_breakdowns(tenant: Tenant, dataset: list[Event]) -> None:
    f = s.metrics_filter_for(range_name="7d")
    raw = _in(f, dataset)
    with in_tenant(tenant):
        summary = s.cost_summary(f)
        assert summary.requests == len(raw)
        assert summary.cost_usd == sum((e.cost_usd for e in raw), Decimal(0))
        for by in ("feature", "model", "customer", "query_type", "provider", "endpoint"):
            rows = s.cost_breakdown(f, by=by)
            expected: dict[str, Decimal] = defaultdict(Decimal)
            counts: Counter[str] = Counter()
            for e in raw:
                expected[getattr(e, by)] += e.cost_usd
                counts[getattr(e, by)] += 1
            assert {r.key: r.cost_usd for r in rows} == expected
            assert {r.key: r.requests for r in rows} == counts
            assert abs(sum(r.cost_share or 0 for r in rows) - 1) < 1e-9
        days = s.cost_per_day(f)
        assert sum(cost for _, cost, _ in days) == summary.cost_usd
        assert sum(n for _, _, n in days) == summary.requests


def test_cost_concentration_shows_costly_low_use_feature(
    tenant: Tenant, dataset: list[Event]
) -> None:
    f = s.metrics_filter_for(range_name="7d")
    with in_tenant(tenant):
        conc = s.cost_concentration(f, by="feature", top=1)
    assert conc.top[0].key == "newsletter"  # ten times dearer per request in the dataset
    assert conc.top[0].relative_cost_per_request and conc.top[0].relative_cost_per_request > 2
    assert conc.top_cost_share and conc.top_request_share
    assert conc.top_cost_share > conc.top_request_share


def test_filters_narrow_every_number(tenant: Tenant, dataset: list[Event]) -> None:
    f = s.metrics_filter_for(range_name="24h", feature="chat", environment="production")
    raw = _in(f, dataset)
    with in_tenant(tenant):
        assert s.cost_summary(f).requests == len(raw)
        rel = s.reliability_summary(f).current
    assert rel.failures == sum(1 for e in raw if e.status != "ok")


def test_latency_percentiles_match_percentile_cont(tenant: Tenant, dataset: list[Event]) -> None:
    f = s.metrics_filter_for(range_name="7d")
    raw = _in(f, dataset)
    with in_tenant(tenant):
        summary = s.latency_summary(f).current
        by_endpoint = {r.key: r for r in s.latency_breakdown(f, by="endpoint")}
        series = s.latency_series(f)
        by_feature_series = s.latency_series(f, by="feature", quantile="p95")
        lat = [e.latency_ms for e in raw if e.latency_ms is not None]
        ttft = [e.time_to_first_token_ms for e in raw if e.time_to_first_token_ms is not None]
        for value, q in ((summary.p50_ms, 0.5), (summary.p95_ms, 0.95), (summary.p99_ms, 0.99)):
            assert value is not None and abs(value - _exact(lat, q)) / _exact(lat, q) < 0.02
        assert summary.ttft_p95_ms is not None
        assert abs(summary.ttft_p95_ms - _exact(ttft, 0.95)) / _exact(ttft, 0.95) < 0.02
        assert summary.measured == len(lat)
        assert summary.tail_count == sum(1 for v in lat if v > 2000)
        chat = [e.latency_ms for e in raw if e.endpoint == "/v1/chat" and e.latency_ms]
        assert (
            abs((by_endpoint["/v1/chat"].p99_ms or 0) - _exact(chat, 0.99)) / _exact(chat, 0.99)
            < 0.02
        )
    assert series.bucket == "hour" and len(series.buckets) == 7 * 24
    assert set(series.lines) == {"p50", "p95", "p99"}
    assert set(by_feature_series.lines) == {"chat", "search", "newsletter"}
    # an hour's point is that hour's percentile
    hour = next(b for b, v in zip(series.buckets, series.lines["p50"], strict=True) if v)
    in_hour = [
        e.latency_ms
        for e in raw
        if e.latency_ms and hour <= e.timestamp < hour + (series.buckets[1] - series.buckets[0])
    ]
    assert (
        abs((series.lines["p50"][series.buckets.index(hour)] or 0) - _exact(in_hour, 0.5))
        / _exact(in_hour, 0.5)
        < 0.02
    )


def test_thirty_days_use_daily_buckets(tenant: Tenant, dataset: list[Event]) -> None:
    f = s.metrics_filter_for(range_name="30d")
    with in_tenant(tenant):
        series = s.cost_series(f, by="feature", top=2)
    assert series.bucket == "day" and len(series.buckets) in (30, 31)
    assert len(series.lines) == 3 and "newsletter" in series.lines and "other" in series.lines
    total = sum(sum(v or 0 for v in line) for line in series.lines.values())
    assert abs(total - float(sum(e.cost_usd for e in dataset))) < 1e-6


def test_reliability_numbers(tenant: Tenant, dataset: list[Event]) -> None:
    f = s.metrics_filter_for(range_name="7d")
    raw = _in(f, dataset)
    with in_tenant(tenant):
        rel = s.reliability_summary(f).current
        providers = {r.key: r for r in s.reliability_breakdown(f, by="provider")}
        avail = s.provider_availability_series(f)
        errors = s.error_series(f)
    statuses = Counter(e.status for e in raw)
    assert rel.by_status == {
        k: statuses[k] for k in ("error", "timeout", "rate_limited", "cancelled")
    }
    assert rel.fallbacks == sum(e.fallback_used for e in raw)
    assert rel.retries == sum(e.retries for e in raw)
    openai = [e for e in raw if e.provider == "openai"]
    assert providers["openai"].availability == sum(e.status == "ok" for e in openai) / len(openai)
    assert set(avail.lines) == {"openai", "anthropic"}
    assert sum(sum(v or 0 for v in line) for line in errors.lines.values()) == rel.failures


def test_safety_numbers(tenant: Tenant, dataset: list[Event]) -> None:
    f = s.metrics_filter_for(range_name="7d")
    raw = _in(f, dataset)
    with in_tenant(tenant):
        safety = s.safety_summary(f)
        rows = s.violations_breakdown(f)
    assert safety.refusals == sum(e.refused for e in raw)
    expected = Counter((v["policy"], v["severity"]) for e in raw for v in e.policy_violations)
    assert {(r.policy, r.severity): r.count for r in rows} == expected
    assert safety.violations == sum(expected.values())


def test_quality_per_category(tenant: Tenant, dataset: list[Event]) -> None:
    f = s.metrics_filter_for(range_name="7d")
    raw = [e for e in _in(f, dataset) if e.scores]
    with in_tenant(tenant):
        rows = {r.key: r for r in s.quality_breakdown(f)}
        series = s.quality_series(f)
        summary = s.quality_summary(f)
    news = [e.scores[0]["value"] for e in raw if e.content_category == "news"]
    assert rows["news"].scored == len(news)
    assert abs((rows["news"].average or 0) - sum(news) / len(news)) < 1e-9
    assert summary.current.scored == len(raw)
    assert set(series.lines) == {"news", "sports"}


def test_overview_against_previous_period(tenant: Tenant) -> None:
    add_events(
        tenant,
        [
            {"timestamp": hours_ago(2), "cost_usd": "2"},
            {"timestamp": hours_ago(30), "cost_usd": "1"},
        ],
    )
    with in_tenant(tenant):
        ov = s.overview(s.metrics_filter_for(range_name="24h"))
    spend = ov.get("cost_usd")
    assert (spend.value, spend.previous, spend.change) == (Decimal("2"), Decimal("1"), 1.0)
    assert {h.layer for h in ov.headlines} == {
        "cost",
        "latency",
        "quality",
        "reliability",
        "safety",
    }


def test_event_list_drill_down_and_pagination(tenant: Tenant, dataset: list[Event]) -> None:
    f = s.metrics_filter_for(range_name="7d", feature="search")
    raw = _in(f, dataset)
    with in_tenant(tenant):
        seen: list[str] = []
        cursor = None
        while True:
            page = s.event_list(f, cursor=cursor, limit=40)
            seen += [e.event_id for e in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        failed = s.event_list(f, failed=True, limit=200).items
        tails = s.tail_events(f)
    assert sorted(seen) == sorted(e.event_id for e in raw) and len(set(seen)) == len(seen)
    assert {e.event_id for e in failed} == {e.event_id for e in raw if e.status != "ok"}
    assert {e.event_id for e in tails} == {e.event_id for e in raw if (e.latency_ms or 0) > 2000}


def test_event_detail_with_trace_waterfall(tenant: Tenant, other_tenant: Tenant) -> None:
    t0 = hours_ago(1)
    specs = [
        {
            "event_id": "root",
            "timestamp": t0,
            "trace_id": "t1",
            "span_id": "a",
            "latency_ms": 900.0,
        },
        {
            "event_id": "child",
            "timestamp": t0.replace(second=1),
            "trace_id": "t1",
            "span_id": "b",
            "parent_span_id": "a",
            "latency_ms": 2500.0,
        },
    ]
    add_events(tenant, specs)
    with in_tenant(tenant):
        detail = s.event_detail(event_id="child")
    assert detail.is_tail and detail.threshold_ms == 2000
    assert [(sp.event.event_id, sp.depth, sp.offset_ms) for sp in detail.trace] == [
        ("root", 0, 0.0),
        ("child", 1, 1000.0),
    ]
    assert detail.trace_duration_ms == 3500.0
    with in_tenant(other_tenant), pytest.raises(NotFoundError):
        s.event_detail(event_id="child")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"range": "1y"}, "range"),
        ({"range": "custom", "from": "2026-01-05"}, "to"),
        ({"from": "yesterday", "to": "2026-01-05"}, "from"),
        ({"from": "2026-02-05", "to": "2026-01-05"}, "to"),
        ({"from": "2020-01-01", "to": "2026-01-05"}, "to"),
        ({"feature": "x" * 300}, "feature"),
        ({"customer": "a\x00b"}, "customer"),
    ],
)
def test_bad_filters_name_the_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(ApplicationError) as info:
        s.metrics_filter_from_params(params)
    assert field in info.value.details


def test_custom_range_is_whole_days() -> None:
    f = s.metrics_filter_from_params({"from": "2026-03-01", "to": "2026-03-02", "model": "m"})
    assert (f.start.isoformat(), f.end.isoformat()) == (
        "2026-03-01T00:00:00+00:00",
        "2026-03-03T00:00:00+00:00",
    )
    assert f.dimensions() == {"model": "m"} and f.bucket == "hour"
    assert f.previous().end == f.start


def test_every_rollup_tier_agrees_with_raw_events(tenant: Tenant, dataset: list[Event]) -> None:
    """Every projection (and the hourly rows) gives the raw events' numbers."""
    assert coarse_projection(s.metrics_filter_for(range_name="24h")) == "total"
    cases: list[dict[str, str]] = [
        {},  # total projection
        {"customer": "c2"},  # customer projection
        {"endpoint": "/v1/chat"},  # endpoint projection
        {"customer": "c2", "feature": "chat"},  # by_customer projection
        {"customer": "c2", "endpoint": "/v1/chat"},  # no projection keeps both: hourly rows
        {"content_category": "news", "query_type": "q"},  # all_but_customer projection
    ]
    for dims in cases:
        for range_name in ("24h", "7d", "30d"):
            f = s.metrics_filter_from_params({"range": range_name, **dims})
            raw = _in(f, dataset)
            with in_tenant(tenant):
                ov = s.overview(f)
                p99 = s.latency_summary(f).current.p99_ms
            assert ov.requests == len(raw), (dims, range_name)
            assert ov.get("cost_usd").value == sum((e.cost_usd for e in raw), Decimal(0))
            lat = [e.latency_ms for e in raw if e.latency_ms is not None]
            if lat:
                assert p99 is not None
                assert abs(p99 - _exact(lat, 0.99)) / _exact(lat, 0.99) < 0.02


def test_bad_selector_arguments_are_application_errors(tenant: Tenant) -> None:
    f = s.metrics_filter_for(range_name="24h")
    with in_tenant(tenant):
        for call, field in (
            (lambda: s.cost_breakdown(f, by="colour"), "by"),
            (lambda: s.latency_series(f, by="feature", quantile="p42"), "quantile"),
            (lambda: s.latency_series(f, metric="speed"), "metric"),
        ):
            with pytest.raises(ApplicationError) as info:
                call()
            assert field in info.value.details
