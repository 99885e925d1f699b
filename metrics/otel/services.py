"""Writes for OpenTelemetry ingestion: LLM spans through the ingest pipeline, the rest as context.

Telemetry is not a configuration change, so like the REST pipeline these writes
are not audited one by one; what is accepted is committed before the answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from metrics.ingest.pipeline import ingest_events
from metrics.otel.decode import DecodedTraces
from metrics.otel.mapping import llm_dialect, span_to_context, span_to_event
from metrics.otel.models import TraceSpan
from metrics.otel.scores import client_scores_apply
from tenants.models import Tenant

logger = logging.getLogger(__name__)

PIPELINE_BATCH = 1000  # the REST batch limit; a big OTLP export is fed in slices
MAX_ERROR_MESSAGES = 10
MAPPING_ERRORS = (ValueError, TypeError, KeyError, OverflowError, OSError)


@dataclass
class OtlpIngestResult:
    events_accepted: int = 0
    events_duplicate: int = 0
    context_spans: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (span label, why)

    @property
    def rejected_spans(self) -> int:
        return len(self.rejected)

    def error_message(self) -> str:
        """OTLP partial_success.error_message: the first reasons, then how many more."""
        lines = [f"span {label}: {why}" for label, why in self.rejected[:MAX_ERROR_MESSAGES]]
        if len(self.rejected) > MAX_ERROR_MESSAGES:
            lines.append(f"(+{len(self.rejected) - MAX_ERROR_MESSAGES} more rejected spans)")
        return "; ".join(lines)


def span_label(span: dict[str, Any]) -> str:
    return (
        f"{span.get('trace_id', '?')}/{span.get('span_id', '?')} ({str(span.get('name', ''))[:64]})"
    )


def _split(
    decoded: DecodedTraces, result: OtlpIngestResult
) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    contexts: list[dict[str, Any]] = []
    for span in decoded.spans:
        label = span_label(span)
        try:
            if llm_dialect(span.get("attributes") or {}) is not None:
                events.append((label, span_to_event(span)))
            else:
                contexts.append(span_to_context(span))
        except MAPPING_ERRORS as exc:
            logger.info("otel span %s not mappable: %r", label, exc)
            result.rejected.append((label, f"cannot be mapped ({type(exc).__name__})."))
    return events, contexts


def trace_spans_store(*, tenant: Tenant, spans: list[dict[str, Any]]) -> int:
    """Insert trace-context spans; a span already stored (re-export) is left as it was."""
    if not spans:
        return 0
    now = timezone.now()
    rows = [TraceSpan(received_at=now, **span) for span in spans]
    with schema_context(tenant.schema_name), transaction.atomic():
        TraceSpan.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return len(rows)


def otel_spans_ingest(
    *, tenant: Tenant, decoded: DecodedTraces, source: str = "otel"
) -> OtlpIngestResult:
    """Store one OTLP export: LLM spans as events (idempotent by span), others as context."""
    result = OtlpIngestResult(rejected=list(decoded.rejected))
    events, contexts = _split(decoded, result)
    for offset in range(0, len(events), PIPELINE_BATCH):
        chunk = events[offset : offset + PIPELINE_BATCH]
        outcomes = ingest_events(
            tenant=tenant, raw_events=[event for _, event in chunk], source=source
        )
        for outcome in outcomes:
            label = chunk[outcome.index][0]
            if outcome.status == "accepted":
                result.events_accepted += 1
            elif outcome.status == "duplicate":
                result.events_duplicate += 1
            else:
                reasons = ", ".join(f"{name}: {why}" for name, why in outcome.errors.items())
                result.rejected.append((label, reasons or outcome.status))
    result.context_spans = trace_spans_store(tenant=tenant, spans=contexts)
    if result.events_accepted:
        # Langfuse scores that arrived before their generation's span attach now.
        client_scores_apply(tenant=tenant, trace_ids={event["trace_id"] for _, event in events})
    return result
