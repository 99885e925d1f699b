"""Reads of trace context: one trace, its LLM events and its other spans together."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from metrics.models import Event
from metrics.otel.models import TraceSpan

MAX_TRACE_ITEMS = 2000  # a waterfall past this is unreadable; the rest is counted, not shown


@dataclass(frozen=True)
class TraceItem:
    """One row of a waterfall: an LLM call (`kind == "llm"`) or another span."""

    kind: str  # "llm" | "span"
    span_id: str
    parent_span_id: str
    name: str
    start: datetime
    end: datetime | None
    duration_ms: float | None
    status: str
    service_name: str = ""
    depth: int = 0  # 0 for roots (and for spans whose parent was never received)
    offset_ms: float = 0.0  # start relative to the trace's first start
    event_id: str | None = None
    feature: str = ""
    model: str = ""
    provider: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal | None = None


@dataclass(frozen=True)
class TraceView:
    trace_id: str
    items: list[TraceItem]  # depth-first, children in start order: ready for a waterfall
    start: datetime | None
    end: datetime | None
    duration_ms: float | None
    llm_calls: int
    total_cost_usd: Decimal
    total_tokens: int
    truncated: int  # items left out past MAX_TRACE_ITEMS


def _llm_items(trace_id: str) -> list[TraceItem]:
    rows = Event.objects.filter(trace_id=trace_id).order_by("timestamp", "id")
    items: list[TraceItem] = []
    for event in rows[: MAX_TRACE_ITEMS + 1]:
        duration = event.latency_ms
        attributes = event.attributes if isinstance(event.attributes, dict) else {}
        items.append(
            TraceItem(
                kind="llm",
                span_id=event.span_id or event.event_id,
                parent_span_id=event.parent_span_id,
                name=str(attributes.get("otel.span_name") or f"{event.feature} · {event.model}"),
                start=event.timestamp,
                end=event.timestamp + timedelta(milliseconds=duration) if duration else None,
                duration_ms=duration,
                status=event.status,
                service_name=str(attributes.get("service.name") or ""),
                event_id=event.event_id,
                feature=event.feature,
                model=event.model,
                provider=event.provider,
                input_tokens=event.input_tokens,
                output_tokens=event.output_tokens,
                cost_usd=event.cost_usd,
            )
        )
    return items


def _span_items(trace_id: str) -> list[TraceItem]:
    rows = TraceSpan.objects.filter(trace_id=trace_id).order_by("start", "id")
    return [
        TraceItem(
            kind="span",
            span_id=span.span_id,
            parent_span_id=span.parent_span_id,
            name=span.name,
            start=span.start,
            end=span.end,
            duration_ms=span.duration_ms,
            status=span.status,
            service_name=span.service_name,
        )
        for span in rows[: MAX_TRACE_ITEMS + 1]
    ]


def _depth_first(items: list[TraceItem]) -> list[tuple[TraceItem, int]]:
    by_id = {item.span_id: item for item in items}
    children: dict[str, list[TraceItem]] = {}
    roots: list[TraceItem] = []
    for item in items:
        parent = item.parent_span_id
        if parent and parent in by_id and parent != item.span_id:
            children.setdefault(parent, []).append(item)
        else:
            roots.append(item)
    ordered: list[tuple[TraceItem, int]] = []
    seen: set[str] = set()
    stack = [(root, 0) for root in reversed(roots)]
    while stack:
        item, depth = stack.pop()
        if item.span_id in seen:  # a cycle in bad data: show each span once
            continue
        seen.add(item.span_id)
        ordered.append((item, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(item.span_id, [])))
    return ordered


def trace_spans(trace_id: str) -> TraceView:
    """The LLM events and other spans of one trace in the current tenant's schema.

    Empty `items` when the trace is unknown (the caller answers 404). Items are
    ordered depth-first with children by start time, each with its depth and its
    offset from the trace start, which is all a waterfall needs.
    """
    trace_id = trace_id.strip().lower()
    raw = sorted(
        [*_llm_items(trace_id), *_span_items(trace_id)],
        key=lambda item: (item.start, item.kind, item.span_id),
    )
    truncated = max(len(raw) - MAX_TRACE_ITEMS, 0)
    raw = raw[:MAX_TRACE_ITEMS]
    if not raw:
        return TraceView(trace_id, [], None, None, None, 0, Decimal(0), 0, 0)
    trace_start = min(item.start for item in raw)
    trace_end = max(item.end or item.start for item in raw)
    items = [
        replace(item, depth=depth, offset_ms=(item.start - trace_start).total_seconds() * 1000)
        for item, depth in _depth_first(raw)
    ]
    llm = [item for item in items if item.kind == "llm"]
    return TraceView(
        trace_id=trace_id,
        items=items,
        start=trace_start,
        end=trace_end,
        duration_ms=(trace_end - trace_start).total_seconds() * 1000,
        llm_calls=len(llm),
        total_cost_usd=sum((item.cost_usd or Decimal(0) for item in llm), Decimal(0)),
        total_tokens=sum(item.input_tokens + item.output_tokens for item in llm),
        truncated=truncated,
    )
