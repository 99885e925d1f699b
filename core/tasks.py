"""Beat entries live in `public`; this task sends a per-tenant task into every active tenant."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context, tenant_context

from core.celery import app
from core.db import tenant_connection


@shared_task(name="core.fan_out_to_tenants", time_limit=60, soft_time_limit=50)
def fan_out_to_tenants(task_name: str) -> int:
    """Send `task_name` once per active tenant, stamped with that tenant's schema.

    Each tenant gets its own task so one slow tenant never delays the others.
    """
    # Imported here: the tenants app depends on core, not the other way round.
    from django.apps import apps

    tenant_model = apps.get_model("tenants", "Tenant")
    sent = 0
    with schema_context("public"):
        tenants = list(
            tenant_model.objects.filter(status="active")
            .exclude(schema_name="public")
            .order_by("pk")
        )
    for tenant in tenants:
        with tenant_context(tenant):
            app.send_task(task_name)
        sent += 1
    tenant_connection().set_schema_to_public()
    return sent
