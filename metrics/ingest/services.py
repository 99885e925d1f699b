"""Writes for ingestion settings (the events themselves go through metrics.ingest.pipeline)."""

from __future__ import annotations

from django.db import transaction
from django_tenants.utils import tenant_context

from compliance.services import audit_record
from core.services import model_update
from metrics.ingest.models import IngestSettings
from tenants.models import Tenant


def ingest_settings_get(*, tenant: Tenant) -> IngestSettings:
    """The tenant's settings (defaults if never saved; not written)."""
    with tenant_context(tenant):
        return IngestSettings.objects.filter(pk=1).first() or IngestSettings(pk=1)


def ingest_settings_update(*, tenant: Tenant, store_content: bool) -> IngestSettings:
    """Switch storing of (redacted) input/output text on or off for events received from now."""
    with tenant_context(tenant), transaction.atomic():
        row, _ = IngestSettings.objects.select_for_update().get_or_create(pk=1)
        row, before, after = model_update(
            instance=row, fields=["store_content"], data={"store_content": bool(store_content)}
        )
        if after:
            audit_record(
                tenant_slug=tenant.schema_name,
                action="ingest_settings.update",
                object_type="ingest_settings",
                object_id=1,
                before=before,
                after=after,
            )
    return row
