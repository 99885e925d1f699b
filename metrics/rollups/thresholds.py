"""Writes of the per-endpoint tail-latency thresholds (tenant schema)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import transaction

from compliance.services import audit_record
from core.exceptions import ApplicationError
from metrics.rollups.models import DEFAULT_TAIL_THRESHOLD_MS, EndpointThreshold, HourlyRollup
from metrics.rollups.services import current_schema, dirty_hours_mark, floor_hour

MAX_THRESHOLD_MS = 600_000.0
REBUILD_DAYS = 30  # tail counts of this many recent days are rebuilt after a change


def endpoint_threshold_set(
    *, endpoint: str, threshold_ms: float | None
) -> EndpointThreshold | None:
    """Set an endpoint's tail threshold (None restores the 2 s default); audited.

    The endpoint's hours of the last 30 days are marked dirty so tail counts
    follow the new threshold within minutes (older: `manage.py rebuild_rollups`).
    """
    endpoint = endpoint.strip()
    if not endpoint or len(endpoint) > 256:
        raise ApplicationError("Invalid threshold.", details={"endpoint": "1 to 256 characters."})
    if threshold_ms is not None and not 1 <= threshold_ms <= MAX_THRESHOLD_MS:
        raise ApplicationError(
            "Invalid threshold.",
            details={"threshold_ms": f"Between 1 and {MAX_THRESHOLD_MS:.0f} ms."},
        )
    with transaction.atomic():
        row = EndpointThreshold.objects.select_for_update().filter(endpoint=endpoint).first()
        before = {"threshold_ms": row.threshold_ms if row else DEFAULT_TAIL_THRESHOLD_MS}
        if threshold_ms is None:
            if row is not None:
                row.delete()
            row = None
        elif row is None:
            row = EndpointThreshold.objects.create(endpoint=endpoint, threshold_ms=threshold_ms)
        else:
            EndpointThreshold.objects.filter(pk=row.pk).update(threshold_ms=threshold_ms)
            row.refresh_from_db()
        after = {"threshold_ms": threshold_ms or DEFAULT_TAIL_THRESHOLD_MS}
        audit_record(
            tenant_slug=current_schema(),
            action="metrics.endpoint_threshold.set",
            object_type="endpoint_threshold",
            object_id=endpoint,
            before=before,
            after=after,
        )
        since = floor_hour(datetime.now(tz=UTC)) - timedelta(days=REBUILD_DAYS)
        hours = (
            HourlyRollup.objects.filter(endpoint=endpoint, hour__gte=since)
            .values_list("hour", flat=True)
            .distinct()
        )
        dirty_hours_mark(hours=list(hours))
    return row


def endpoint_thresholds_list() -> list[EndpointThreshold]:
    return list(EndpointThreshold.objects.order_by("endpoint"))
