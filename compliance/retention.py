"""Retention: expire raw events and stored content per tenant, in small batches.

Compliance cannot import metrics (the dependency direction forbids it), so the
sweep names the event model at runtime (`apps.get_model("metrics", "Event")`):
deleting through the ORM applies each related model's on_delete (an event's
quality grades go with it), which raw SQL on the table would not. Stored
content is cleared with plain SQL on metrics_event. Each batch is its own
short transaction with a lock timeout: the sweep never holds a long lock, and
a busy table makes it stop early and finish on the next run. Audit
entries and violation records are never deleted by the application (their
triggers refuse it); a legal hold stops every expiry.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import OperationalError, connection, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone

from compliance.services import audit_record, compliance_settings_get
from core.db import tenant_connection

logger = logging.getLogger("vigil.compliance")

CLEAR_CONTENT = """
UPDATE metrics_event SET input = '', output = '', content_expires_at = NULL WHERE id IN (
    SELECT id FROM metrics_event
    WHERE content_expires_at < %s
       OR (timestamp < %s AND (input <> '' OR output <> ''))
    LIMIT %s FOR UPDATE SKIP LOCKED
)
"""


@dataclass(frozen=True)
class RetentionResult:
    held: bool
    events_deleted: int = 0
    content_cleared: int = 0
    finished: bool = True


def _batched(sql: str, params: list[Any], *, batch_size: int, deadline: float) -> tuple[int, bool]:
    """Run `sql` (which affects at most batch_size rows) until nothing is left or time is up."""
    total = 0
    while time.monotonic() < deadline:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
                cursor.execute(sql, [*params, batch_size])
                affected = cursor.rowcount
        except OperationalError:
            logger.warning("retention batch skipped: the table is busy", exc_info=True)
            return total, False
        total += affected
        if affected < batch_size:
            return total, True
    return total, False


def _delete_events(before: datetime, *, batch_size: int, deadline: float) -> tuple[int, bool]:
    """Delete events older than `before`, oldest first, a batch per transaction."""
    event_model = apps.get_model("metrics", "Event")
    total = 0
    while time.monotonic() < deadline:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                ids = list(
                    event_model.objects.filter(timestamp__lt=before)
                    .order_by("timestamp")
                    .select_for_update(skip_locked=True)
                    .values_list("pk", flat=True)[:batch_size]
                )
                if ids:
                    event_model.objects.filter(pk__in=ids).delete()
        except (OperationalError, ProtectedError, RestrictedError):
            logger.warning("retention: events batch not deleted", exc_info=True)
            return total, False
        total += len(ids)
        if len(ids) < batch_size:
            return total, True
    return total, False


def _has_events_table() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('metrics_event') IS NOT NULL")
        row = cursor.fetchone()
    return bool(row and row[0])


def retention_run(
    *, now: datetime | None = None, batch_size: int = 2000, max_seconds: float = 240.0
) -> RetentionResult:
    """Expire the current tenant's old events and content; the run is audited."""
    slug = str(tenant_connection().schema_name)
    now = now or timezone.now()
    settings_row = compliance_settings_get()
    if settings_row.legal_hold:
        with transaction.atomic():
            audit_record(
                tenant_slug=slug,
                action="retention.held",
                object_type="retention",
                object_id=slug,
                after={"legal_hold_reason": settings_row.legal_hold_reason},
            )
        return RetentionResult(held=True)
    events_before = now - timedelta(days=settings_row.events_retention_days)
    content_before = now - timedelta(days=settings_row.content_retention_days)
    deadline = time.monotonic() + max_seconds
    deleted = cleared = 0
    finished = True
    if _has_events_table():
        deleted, done_events = _delete_events(
            events_before, batch_size=batch_size, deadline=deadline
        )
        cleared, done_content = _batched(
            CLEAR_CONTENT, [now, content_before], batch_size=batch_size, deadline=deadline
        )
        finished = done_events and done_content
    with transaction.atomic():
        audit_record(
            tenant_slug=slug,
            action="retention.expired",
            object_type="retention",
            object_id=slug,
            after={
                "events_deleted": deleted,
                "events_before": events_before,
                "content_cleared": cleared,
                "content_before": content_before,
                "finished": finished,
            },
        )
    logger.info("retention %s: %s events deleted, %s contents cleared", slug, deleted, cleared)
    return RetentionResult(
        held=False, events_deleted=deleted, content_cleared=cleared, finished=finished
    )
