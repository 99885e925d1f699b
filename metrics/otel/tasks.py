"""Celery tasks of OpenTelemetry ingestion (thin wrappers)."""

from __future__ import annotations

from celery import shared_task

from core.request_context import acting_as
from metrics.otel.retention import trace_context_prune


@shared_task(name="metrics.ingest.prune_trace_context", time_limit=300, soft_time_limit=280)
def prune_trace_context() -> int:
    """Fanned out daily into each tenant schema: expire old trace-context spans."""
    with acting_as("trace context retention"):
        return trace_context_prune(max_seconds=240.0).deleted
