"""Drill-down pages: the events behind a number, one event, and a trace as a waterfall."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from core.exceptions import ApplicationError
from core.roles import tenant_page
from metrics import selectors
from metrics.otel.selectors import TraceView, trace_spans
from metrics.selectors.events import STATUSES
from metrics.templatetags.dashboard import events_url
from metrics.views.common import EVENT_FLAGS, filter_state, render_dashboard

PAGE_SIZE = 50
FLAG_LABELS = {
    "failed": "failed calls",
    "tail": "tail events",
    "refused": "refusals",
    "violations": "with a policy violation",
    "fallback": "served by a fallback",
    "scored": "scored calls",
}
TRUE_VALUES = ("1", "true", "on", "yes")


def _narrowing(request: HttpRequest) -> tuple[dict[str, Any], dict[str, str]]:
    narrow: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for flag in EVENT_FLAGS:
        raw = request.GET.get(flag)
        if raw is None or raw == "":
            continue
        if raw.lower() in TRUE_VALUES:
            narrow[flag] = True
        elif raw.lower() not in ("0", "false", "off", "no"):
            errors[flag] = "Use 1 or 0."
    status = request.GET.get("status")
    if status:
        if status in STATUSES:
            narrow["status"] = status
        else:
            errors["status"] = f"One of: {', '.join(STATUSES)}."
    return narrow, errors


@tenant_page("dashboard")
def events_page(request: HttpRequest) -> HttpResponse:
    state = filter_state(request, keep=(*EVENT_FLAGS, "status"))
    narrow, errors = _narrowing(request)
    for name in errors:
        state.extra.pop(name, None)
    state.errors.update(errors)
    cursor = request.GET.get("cursor") or None
    try:
        page = selectors.event_list(state.filter, cursor=cursor, limit=PAGE_SIZE, **narrow)
    except ApplicationError as exc:
        state.errors.update({str(k): str(v) for k, v in exc.details.items()})
        cursor = None
        page = selectors.event_list(state.filter, limit=PAGE_SIZE, **narrow)
    f = state.filter
    chips = [
        {
            "label": FLAG_LABELS.get(name, f"status {value}"),
            "remove_href": events_url(f, **{k: v for k, v in narrow.items() if k != name}),
        }
        for name, value in narrow.items()
    ]
    more_href = events_url(f, cursor=page.next_cursor, **narrow) if page.next_cursor else None
    context = {"events_page": page, "chips": chips, "more_href": more_href, "cursor": cursor}
    if cursor and getattr(request, "htmx", False):
        # "Load more": only the next rows and the next button.
        return render(request, "metrics/_event_rows.html", {**context, "f": f})
    return render_dashboard(
        request,
        page="dash-events",
        template="metrics/events.html",
        partial="metrics/_events.html",
        state=state,
        context=context,
    )


def _waterfall(trace: TraceView) -> list[dict[str, Any]]:
    """Rows of a waterfall: each span's bar placed by its offset and duration (in %)."""
    total = trace.duration_ms or 0.0
    rows = []
    for item in trace.items:
        duration = item.duration_ms or 0.0
        left = item.offset_ms / total * 100 if total else 0.0
        width = duration / total * 100 if total else 100.0
        rows.append(
            {
                "item": item,
                "indent": item.depth * 16,
                "left": f"{min(left, 99.5):.3f}%",
                "width": f"{max(min(width, 100.0 - min(left, 99.5)), 0.3):.3f}%",
            }
        )
    return rows


def _axis(total_ms: float | None) -> list[float]:
    total = total_ms or 0.0
    return [total * i / 4 for i in range(5)]


@tenant_page("dashboard")
def event_page(request: HttpRequest, event_id: str) -> HttpResponse:
    try:
        detail = selectors.event_detail(event_id=event_id)
    except ApplicationError as exc:
        raise Http404("No such event.") from exc
    event = detail.event
    trace = trace_spans(event.trace_id) if event.trace_id else None
    context = {
        "detail": detail,
        "event": event,
        "trace": trace,
        "waterfall": _waterfall(trace) if trace and trace.items else [],
        "axis": _axis(trace.duration_ms if trace else None),
        "attributes_json": json.dumps(event.attributes, indent=2, sort_keys=True)
        if event.attributes
        else "",
    }
    return render(request, "metrics/event.html", context)


@tenant_page("dashboard")
def trace_page(request: HttpRequest, trace_id: str) -> HttpResponse:
    trace = trace_spans(trace_id)
    if not trace.items:
        raise Http404("No such trace.")
    context = {
        "trace": trace,
        "waterfall": _waterfall(trace),
        "axis": _axis(trace.duration_ms),
        "current_event_id": request.GET.get("event", ""),
    }
    return render(request, "metrics/trace.html", context)
