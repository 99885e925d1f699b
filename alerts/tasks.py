"""Celery entry points of the alerts queue (names start with "alerts.").

`alerts.evaluate_all` runs in `public` every minute (beat) and sends one
`alerts.evaluate_tenant` per active tenant, stamped with that tenant's schema
and the evaluation minute and expiring after a minute: a tenant's task that
could not run in time is dropped rather than replayed, and one slow tenant
never delays the others. Deliveries run in their own tasks with short
timeouts and retry with exponential backoff.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from celery import shared_task
from django_tenants.utils import schema_context, tenant_context

from core.celery import app
from core.db import tenant_connection

STALE_AFTER = timedelta(minutes=2)


@shared_task(name="alerts.evaluate_all", time_limit=60, soft_time_limit=50)
def evaluate_all() -> int:
    from tenants.models import Tenant

    minute = datetime.now(tz=UTC).replace(second=0, microsecond=0)
    with schema_context("public"):
        tenants = list(Tenant.objects.filter(status="active").exclude(schema_name="public"))
    for tenant in tenants:
        with tenant_context(tenant):
            app.send_task("alerts.evaluate_tenant", args=[minute.isoformat()], expires=60)
    tenant_connection().set_schema_to_public()
    return len(tenants)


@shared_task(name="alerts.evaluate_tenant", time_limit=50, soft_time_limit=45)
def evaluate_tenant(minute_iso: str | None = None) -> int:
    """Evaluate the current tenant's rules now; a task older than two minutes is skipped."""
    from alerts.evaluation.engine import evaluate_tenant as run
    from alerts.rules.services import alert_rules_ensure_defaults

    now = datetime.now(tz=UTC)
    if minute_iso:
        scheduled = datetime.fromisoformat(minute_iso)
        if now - scheduled > STALE_AFTER:
            return 0
    alert_rules_ensure_defaults()
    return run(now=now).rules


@shared_task(
    name="alerts.deliver_notification",
    bind=True,
    time_limit=30,
    soft_time_limit=25,
    max_retries=5,
)
def deliver_notification(self: Any, notification_id: int) -> bool:
    from alerts.channels.services import notification_deliver

    delivered, retry = notification_deliver(notification_id=notification_id)
    if retry:
        raise self.retry(countdown=min(600, 5 * 2**self.request.retries))
    return delivered
