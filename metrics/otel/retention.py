"""Retention of trace context: context spans live as long as the tenant's events do.

The compliance retention sweep deletes events past `events_retention_days`; this
sweep deletes the context spans around them on the same rule, in short batches,
and never under a legal hold. Applied Langfuse scores past their re-send window
and pending ones whose event never came are pruned by `client_scores_apply`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from compliance.services import audit_record, compliance_settings_get
from core.db import tenant_connection
from metrics.otel.models import TraceSpan

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ContextPruneResult:
    held: bool
    deleted: int = 0
    finished: bool = True


def trace_context_prune(
    *, now: datetime | None = None, batch_size: int = 5000, max_seconds: float = 240.0
) -> ContextPruneResult:
    """Delete the current tenant's context spans older than its event retention; audited."""
    slug = str(tenant_connection().schema_name)
    settings_row = compliance_settings_get()
    if settings_row.legal_hold:
        return ContextPruneResult(held=True)
    cutoff = (now or timezone.now()) - timedelta(days=settings_row.events_retention_days)
    deadline = time.monotonic() + max_seconds
    deleted = 0
    finished = False
    while time.monotonic() < deadline:
        with transaction.atomic():
            ids = list(
                TraceSpan.objects.filter(start__lt=cutoff)
                .order_by("start")
                .values_list("pk", flat=True)[:batch_size]
            )
            if ids:
                deleted += TraceSpan.objects.filter(pk__in=ids).delete()[0]
        if len(ids) < batch_size:
            finished = True
            break
    if deleted:
        with transaction.atomic():
            audit_record(
                tenant_slug=slug,
                action="trace_context.expired",
                object_type="trace_span",
                object_id=slug,
                after={"deleted": deleted, "before": cutoff, "finished": finished},
            )
    logger.info("trace context %s: %s spans deleted (finished=%s)", slug, deleted, finished)
    return ContextPruneResult(held=False, deleted=deleted, finished=finished)
