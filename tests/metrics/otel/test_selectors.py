"""trace_spans(trace_id): LLM events and context spans of one trace, ready for a waterfall."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from metrics.otel.models import TraceSpan
from metrics.otel.selectors import trace_spans
from tenants.models import Tenant

from ..factories import add_events

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _span(
    span_id: str, parent: str, name: str, start_ms: int, duration_ms: int, **kw: Any
) -> TraceSpan:
    start = T0 + timedelta(milliseconds=start_ms)
    return TraceSpan(
        trace_id=TRACE,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        kind="server",
        service_name="api",
        start=start,
        end=start + timedelta(milliseconds=duration_ms),
        duration_ms=duration_ms,
        status=kw.get("status", "ok"),
        received_at=T0,
    )


def _build_trace(tenant: Tenant) -> None:
    with tenant_context(tenant):
        TraceSpan.objects.bulk_create(
            [
                _span("a000000000000001", "", "POST /answer", 0, 2000),
                _span("a000000000000002", "a000000000000001", "retrieve", 10, 300),
                _span("a000000000000003", "a000000000000001", "rerank", 400, 100, status="error"),
                _span("a000000000000009", "ffffffffffffffff", "orphan", 50, 10),
            ]
        )
    add_events(
        tenant,
        [
            {
                "event_id": f"otel-{TRACE}-b000000000000001",
                "trace_id": TRACE,
                "span_id": "b000000000000001",
                "parent_span_id": "a000000000000001",
                "timestamp": T0 + timedelta(milliseconds=600),
                "latency_ms": 1200.0,
                "feature": "answer",
                "model": "gpt-4o",
                "provider": "openai",
                "input_tokens": 100,
                "output_tokens": 20,
                "cost_usd": "0.0012",
                "attributes": {"otel.span_name": "chat gpt-4o"},
            },
            {
                "event_id": f"otel-{TRACE}-b000000000000002",
                "trace_id": TRACE,
                "span_id": "b000000000000002",
                "parent_span_id": "a000000000000002",
                "timestamp": T0 + timedelta(milliseconds=20),
                "latency_ms": 50.0,
                "feature": "answer",
                "model": "text-embedding-3-small",
                "input_tokens": 30,
                "output_tokens": 0,
                "cost_usd": "0.0000006",
            },
        ],
        rollup=False,
    )


def test_trace_is_returned_whole_depth_first(tenant: Tenant) -> None:
    _build_trace(tenant)
    with tenant_context(tenant):
        view = trace_spans(TRACE.upper())
    names = [(item.name, item.kind, item.depth) for item in view.items]
    assert names == [
        ("POST /answer", "span", 0),
        ("retrieve", "span", 1),
        ("answer · text-embedding-3-small", "llm", 2),
        ("rerank", "span", 1),
        ("chat gpt-4o", "llm", 1),
        ("orphan", "span", 0),  # its parent never arrived: shown as a root
    ]
    by_name = {item.name: item for item in view.items}
    assert by_name["chat gpt-4o"].offset_ms == 600.0
    assert by_name["chat gpt-4o"].event_id == f"otel-{TRACE}-b000000000000001"
    assert by_name["chat gpt-4o"].cost_usd == Decimal("0.0012")
    assert by_name["rerank"].status == "error"
    assert view.llm_calls == 2
    assert view.total_tokens == 150
    assert view.total_cost_usd == Decimal("0.0012006")
    assert view.start == T0 and view.duration_ms == 2000.0
    assert view.truncated == 0


def test_unknown_trace_is_empty(tenant: Tenant) -> None:
    with tenant_context(tenant):
        view = trace_spans("0" * 32)
    assert view.items == [] and view.start is None and view.llm_calls == 0


def test_other_tenant_never_sees_the_trace(tenant: Tenant, other_tenant: Tenant) -> None:
    _build_trace(tenant)
    with tenant_context(other_tenant):
        assert trace_spans(TRACE).items == []


def test_two_queries_whatever_the_trace_size(tenant: Tenant) -> None:
    _build_trace(tenant)
    with tenant_context(tenant), CaptureQueriesContext(connection) as captured:
        trace_spans(TRACE)
    # django-tenants prefixes each cursor with SET search_path; count the real reads.
    reads = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SET ")]
    assert len(reads) == 2
