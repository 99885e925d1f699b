"""Trace-context retention: follows the tenant's event retention, never under a legal hold."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from compliance.models import AuditEntry
from compliance.services import compliance_settings_update
from core.celery import app
from core.request_context import acting_as
from metrics.otel.models import TraceSpan
from metrics.otel.retention import trace_context_prune
from tenants.models import Tenant


def _spans(ages_days: list[int]) -> str:
    """Context spans of one fresh trace (other tests' committed rows may exist too)."""
    now = timezone.now()
    trace_id = uuid.uuid4().hex
    TraceSpan.objects.bulk_create(
        [
            TraceSpan(
                trace_id=trace_id,
                span_id=f"{i + 1:016x}",
                name=f"age-{age}",
                start=now - timedelta(days=age),
                received_at=now,
            )
            for i, age in enumerate(ages_days)
        ]
    )
    return trace_id


def test_old_context_spans_expire_with_the_event_retention(tenant: Tenant) -> None:
    with tenant_context(tenant), acting_as("test"):
        compliance_settings_update(data={"events_retention_days": 90})
        trace_id = _spans([1, 89, 91, 400])
        result = trace_context_prune(batch_size=1)
        assert (result.held, result.finished) == (False, True) and result.deleted >= 2
        kept = TraceSpan.objects.filter(trace_id=trace_id).values_list("name", flat=True)
        assert sorted(kept) == ["age-1", "age-89"]
        entry = AuditEntry.objects.filter(action="trace_context.expired").latest("pk")
        assert entry.after["deleted"] == result.deleted


def test_legal_hold_keeps_everything(tenant: Tenant) -> None:
    with tenant_context(tenant), acting_as("test"):
        compliance_settings_update(
            data={"events_retention_days": 30, "legal_hold": True, "legal_hold_reason": "matter 7"}
        )
        trace_id = _spans([400])
        assert trace_context_prune().held is True
        assert TraceSpan.objects.filter(trace_id=trace_id).count() == 1


def test_the_sweep_is_a_registered_task_on_the_ingest_queue() -> None:
    app.loader.import_default_modules()
    assert "metrics.ingest.prune_trace_context" in app.tasks
    route = app.amqp.router.route({}, "metrics.ingest.prune_trace_context")
    assert route["queue"].name == "ingest"
