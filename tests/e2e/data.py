"""Committed demo traffic for the browser tests, and its removal afterwards.

The browser reads through a real server, so rows must be committed; other tests
expect alpha to hold only their own rows, so everything added here is deleted
again and the touched hours are rebuilt, leaving alpha's rollups as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django_tenants.utils import tenant_context

from metrics.demo_scenario import DemoScenario
from metrics.demo_traffic import event_build, events_insert
from metrics.models import Event
from metrics.otel.models import TraceSpan
from metrics.otel.services import trace_spans_store
from metrics.rollups.services import dirty_hours_process, rollups_rebuild_range
from metrics.selectors.filters import floor_hour
from tenants.models import Tenant

PREFIX = "e2e-dash-"
AGENT_TRACE = "e2e0dash0agent0trace0000000000ff"


@dataclass(frozen=True)
class Seeded:
    start: datetime
    end: datetime
    events: int
    agent_event_id: str


def _demo_events(tenant: Tenant, start: datetime, end: datetime, per_day: int) -> list[Event]:
    """The demo scenario's traffic (three incidents included), under this module's ids."""
    scenario = DemoScenario(tenant_slug="acme", start=start, end=end, seed=20261127)
    rows: list[Event] = []
    day = start.date()
    while day <= end.date():
        for fields in scenario.draw_day(day, per_day):
            fields = dict(fields)
            fields["event_id"] = fields["event_id"].replace("demo-acme-", PREFIX)
            rows.append(Event(**fields))
        day += timedelta(days=1)
    return rows


def _agent_trace(now: datetime) -> tuple[list[Event], list[dict[str, Any]]]:
    """One request of an agent: HTTP handler, retrieval, two LLM calls and a tool span."""
    t0 = floor_hour(now) - timedelta(hours=2) + timedelta(minutes=7, seconds=12)

    def at(ms: float) -> datetime:
        return t0 + timedelta(milliseconds=ms)

    spans = [
        {
            "span_id": "a000000000000001",
            "parent_span_id": "",
            "name": "POST /v1/answer",
            "kind": "server",
            "service_name": "support-api",
            "start": at(0),
            "end": at(3420),
            "duration_ms": 3420.0,
            "status": "ok",
        },
        {
            "span_id": "a000000000000002",
            "parent_span_id": "a000000000000001",
            "name": "vector-search kb_articles",
            "kind": "client",
            "service_name": "retriever",
            "start": at(35),
            "end": at(410),
            "duration_ms": 375.0,
            "status": "ok",
        },
        {
            "span_id": "a000000000000004",
            "parent_span_id": "a000000000000001",
            "name": "tool: order_lookup",
            "kind": "internal",
            "service_name": "support-api",
            "start": at(1690),
            "end": at(2010),
            "duration_ms": 320.0,
            "status": "ok",
        },
    ]
    spans = [{"trace_id": AGENT_TRACE, **span} for span in spans]
    common = {
        "trace_id": AGENT_TRACE,
        "feature": "kb-search",
        "endpoint": "/v1/search",
        "customer": "northwind",
        "provider": "openai",
        "query_type": "rag",
    }
    events = [
        event_build(
            event_id=f"{PREFIX}agent-plan",
            span_id="a000000000000003",
            parent_span_id="a000000000000001",
            timestamp=at(430),
            latency_ms=1240.0,
            time_to_first_token_ms=310.0,
            model="gpt-4o",
            input_tokens=3100,
            output_tokens=180,
            cost_usd=Decimal("0.0095500000"),
            **common,
        ),
        event_build(
            event_id=f"{PREFIX}agent-answer",
            span_id="a000000000000005",
            parent_span_id="a000000000000001",
            timestamp=at(2040),
            latency_ms=1350.0,
            time_to_first_token_ms=280.0,
            model="gpt-4o",
            input_tokens=3600,
            output_tokens=420,
            cost_usd=Decimal("0.0132000000"),
            scores=[{"name": "helpfulness", "value": 0.91}],
            **common,
        ),
    ]
    return events, spans


def seed(tenant: Tenant, *, days: int = 30, per_day: int = 400) -> Seeded:
    remove(tenant)
    now = datetime.now(tz=UTC)
    end = floor_hour(now) + timedelta(hours=1)
    start = end - timedelta(days=days)
    with tenant_context(tenant):
        events = _demo_events(tenant, start, end, per_day)
        agent_events, agent_spans = _agent_trace(now)
        events_insert([*events, *agent_events])
        trace_spans_store(tenant=tenant, spans=agent_spans)
        dirty_hours_process(max_hours=100_000, time_budget_s=600)
    return Seeded(
        start=start, end=end, events=len(events) + 2, agent_event_id=f"{PREFIX}agent-answer"
    )


def remove(tenant: Tenant) -> None:
    """Delete this module's events and spans and rebuild the hours they were in."""
    with tenant_context(tenant):
        mine = Event.objects.filter(event_id__startswith=PREFIX)
        bounds = [row["timestamp"] for row in mine.order_by("timestamp").values("timestamp")[:1]]
        if not bounds:
            TraceSpan.objects.filter(trace_id=AGENT_TRACE).delete()
            return
        last = mine.order_by("-timestamp").values_list("timestamp", flat=True).first()
        mine.delete()
        TraceSpan.objects.filter(trace_id=AGENT_TRACE).delete()
        assert last is not None
        rollups_rebuild_range(
            start=floor_hour(bounds[0]), end=floor_hour(last) + timedelta(hours=1)
        )
