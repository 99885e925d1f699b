"""Drill-down: the events behind any number, and one event with its whole trace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from core.exceptions import ApplicationError, NotFoundError
from metrics.models import Event
from metrics.rollups.models import DEFAULT_TAIL_THRESHOLD_MS, EndpointThreshold
from metrics.selectors.filters import MetricsFilter

STATUSES = ("ok", "error", "timeout", "rate_limited", "cancelled")
MAX_LIMIT = 200
LIST_DEFERRED = ("input", "output", "retrieval", "attributes")


@dataclass(frozen=True)
class EventPage:
    items: list[Event]
    next_cursor: str | None


@dataclass(frozen=True)
class WaterfallSpan:
    event: Event
    depth: int
    offset_ms: float  # start relative to the trace's first span
    duration_ms: float


@dataclass(frozen=True)
class EventDetail:
    event: Event
    threshold_ms: float
    is_tail: bool
    trace: list[WaterfallSpan]
    trace_duration_ms: float


def _threshold() -> Coalesce:
    sub = EndpointThreshold.objects.filter(endpoint=OuterRef("endpoint")).values("threshold_ms")[:1]
    return Coalesce(Subquery(sub), Value(DEFAULT_TAIL_THRESHOLD_MS))


def tail_threshold_ms(*, endpoint: str) -> float:
    row = EndpointThreshold.objects.filter(endpoint=endpoint).values_list("threshold_ms", flat=True)
    return float(row.first() or DEFAULT_TAIL_THRESHOLD_MS)


def events_filtered(
    f: MetricsFilter,
    *,
    status: str | None = None,
    failed: bool = False,
    tail: bool = False,
    refused: bool = False,
    violations: bool = False,
    fallback: bool = False,
    scored: bool = False,
) -> QuerySet[Event]:
    """The events of a filter, narrowed like the number that was clicked."""
    qs = Event.objects.filter(timestamp__gte=f.start, timestamp__lt=f.end, **f.dimensions())
    if status:
        if status not in STATUSES:
            raise ApplicationError("Invalid filter.", details={"status": "Unknown status."})
        qs = qs.filter(status=status)
    if failed:
        qs = qs.exclude(status="ok")
    if tail:
        qs = qs.annotate(threshold=_threshold()).filter(latency_ms__gt=F("threshold"))
    if refused:
        qs = qs.filter(refused=True)
    if violations:
        qs = qs.exclude(policy_violations=[])
    if fallback:
        qs = qs.filter(fallback_used=True)
    if scored:
        qs = qs.exclude(scores=[])
    return qs


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        moment, _, pk = cursor.rpartition("_")
        return datetime.fromisoformat(moment), int(pk)
    except ValueError as exc:
        raise ApplicationError(
            "Invalid filter.", details={"cursor": "Not a valid cursor."}
        ) from exc


def event_list(
    f: MetricsFilter, *, cursor: str | None = None, limit: int = 50, **narrow: bool | str | None
) -> EventPage:
    """Newest first, keyset-paginated (`next_cursor`), without the stored content."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ApplicationError("Invalid filter.", details={"limit": f"Between 1 and {MAX_LIMIT}."})
    qs = events_filtered(f, **narrow).defer(*LIST_DEFERRED).order_by("-timestamp", "-id")  # type: ignore[arg-type]
    if cursor:
        moment, pk = _parse_cursor(cursor)
        qs = qs.filter(Q(timestamp__lt=moment) | Q(timestamp=moment, id__lt=pk))
    items = list(qs[: limit + 1])
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        next_cursor = f"{last.timestamp.isoformat()}_{last.pk}"
    return EventPage(items=items, next_cursor=next_cursor)


def tail_events(f: MetricsFilter, *, limit: int = 50) -> list[Event]:
    """Calls slower than their endpoint's threshold (2 s unless set), newest first."""
    return event_list(f, tail=True, limit=limit).items


def event_detail(*, event_id: str) -> EventDetail:
    """One event and every span of its trace (as a waterfall); 404 if not this tenant's."""
    event = Event.objects.filter(event_id=event_id).first()
    if event is None:
        raise NotFoundError("No such event.", details={"event_id": "Not found."})
    threshold = tail_threshold_ms(endpoint=event.endpoint)
    spans = [event]
    if event.trace_id:
        spans = list(
            Event.objects.filter(trace_id=event.trace_id).order_by("timestamp", "id")[:500]
        )
    return EventDetail(
        event=event,
        threshold_ms=threshold,
        is_tail=(event.latency_ms or 0) > threshold,
        trace=_waterfall(spans),
        trace_duration_ms=_trace_duration(spans),
    )


def _trace_duration(spans: list[Event]) -> float:
    first = min(s.timestamp for s in spans)
    last = max(s.timestamp + timedelta(milliseconds=s.latency_ms or 0) for s in spans)
    return (last - first).total_seconds() * 1000


def _waterfall(spans: list[Event]) -> list[WaterfallSpan]:
    first = min(s.timestamp for s in spans)
    by_span = {s.span_id: s for s in spans if s.span_id}
    out = []
    for s in spans:
        depth, parent, seen = 0, s.parent_span_id, set()
        while parent and parent in by_span and parent not in seen and depth < 50:
            seen.add(parent)
            depth += 1
            parent = by_span[parent].parent_span_id
        out.append(
            WaterfallSpan(
                event=s,
                depth=depth,
                offset_ms=(s.timestamp - first).total_seconds() * 1000,
                duration_ms=float(s.latency_ms or 0),
            )
        )
    return out
