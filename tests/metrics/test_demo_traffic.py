"""Demo traffic: the field guide's incidents are in it, seeding is idempotent, COPY works."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from io import StringIO

from django.core.management import call_command

from metrics import selectors as s
from metrics.demo_scenario import DemoScenario
from metrics.demo_traffic import generate_bulk_traffic, seed_tenant_traffic
from metrics.models import DirtyHour, EndpointThreshold, Event, HourlyRollup
from tenants.models import Tenant

from .factories import in_tenant

END = datetime(2026, 11, 20, tzinfo=UTC)


def _thirty_days(slug: str) -> list[dict]:
    scenario = DemoScenario(tenant_slug=slug, start=END - timedelta(days=30), end=END)
    rows: list[dict] = []
    for n in range(31):
        rows += scenario.draw_day((END - timedelta(days=30 - n)).date(), 300)
    return rows


def test_scenario_has_the_three_incidents() -> None:
    for slug in ("acme", "globex"):
        rows = _thirty_days(slug)
        cost: dict[str, float] = defaultdict(float)
        for r in rows:
            cost[r["feature"]] += float(r["cost_usd"])
        newsletter = [r for r in rows if r["feature"] == "newsletter-summarization"]
        share = cost["newsletter-summarization"] / sum(cost.values())
        assert 0.33 < share < 0.48, share
        assert len(newsletter) / len(rows) < 0.06
        voice = sorted(r["latency_ms"] for r in rows if r["endpoint"] == "/v1/voice")
        p50, p99 = voice[len(voice) // 2], voice[int(len(voice) * 0.99)]
        assert 170 < p50 < 240 and 3500 < p99 < 4600, (p50, p99)
        forum = [
            (r["timestamp"], r["scores"][0]["value"])
            for r in rows
            if r["content_category"] == "forum" and r["scores"]
        ]
        first = [v for t, v in forum if t < END - timedelta(days=25)]
        last = [v for t, v in forum if t >= END - timedelta(days=5)]
        assert sum(first) / len(first) - sum(last) / len(last) > 0.04


def test_seed_is_idempotent_and_builds_rollups(tenant: Tenant) -> None:
    now = datetime.now(tz=UTC)
    added = seed_tenant_traffic(tenant, days=2, events_per_day=200, now=now)
    assert added > 0
    assert seed_tenant_traffic(tenant, days=2, events_per_day=200, now=now) == 0
    with in_tenant(tenant):
        assert Event.objects.filter(event_id__startswith="demo-alpha-").count() == added
        assert not DirtyHour.objects.exists()
        assert EndpointThreshold.objects.filter(endpoint="/v1/summarize").exists()
        f = s.metrics_filter_for(range_name="7d")
        assert s.cost_summary(f).requests == added
        assert HourlyRollup.objects.exists()
        child = Event.objects.filter(feature="kb-search-rerank").first()
        if child is not None:
            detail = s.event_detail(event_id=child.event_id)
            assert [sp.depth for sp in detail.trace] == [0, 1]


def test_bulk_copy_and_command(tenant: Tenant) -> None:
    count = generate_bulk_traffic(tenant, events=500, days=1)
    with in_tenant(tenant):
        assert Event.objects.count() == count
        assert DirtyHour.objects.exists()
    out = StringIO()
    call_command(
        "seed_demo_traffic", "--tenant=alpha", "--days=1", "--events-per-day=50", stdout=out
    )
    assert "alpha:" in out.getvalue()
    out = StringIO()
    call_command(
        "rebuild_rollups", "--tenant=alpha", "--from=2026-01-01", "--to=2026-01-02", stdout=out
    )
    assert "48/48 hours" in out.getvalue()
