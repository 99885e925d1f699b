"""Celery entry point for re-pricing (ingest queue: task names start with "metrics.ingest.")."""

from __future__ import annotations

from celery import shared_task
from django.db import connection

from core.request_context import acting_as
from metrics.pricing.services import events_reprice
from metrics.rollups.services import current_schema
from tenants.models import Tenant


@shared_task(name="metrics.ingest.reprice", time_limit=3600, soft_time_limit=3500)
def reprice() -> int:
    """Re-price the unpriced events of the tenant the task was sent from (its schema)."""
    tenant = getattr(connection, "tenant", None)
    if not isinstance(tenant, Tenant):
        tenant = Tenant.objects.get(schema_name=current_schema())
    with acting_as("task metrics.ingest.reprice"):
        return events_reprice(tenant=tenant).changed
